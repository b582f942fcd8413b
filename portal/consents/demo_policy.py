"""The first version of the privacy policy for the demo data, written for MCX in our own words.

It covers every clause of the policy the portal implements (SPEC P1–P12); the demo loads it
before its customers, so the imported consents carry it.
"""
from __future__ import annotations

from datetime import UTC, datetime

from portal.consents import services
from portal.consents.models import PolicyVersion
from portal.extensions import db

VERSION = "1.0"
PUBLISHED_AT = datetime(2025, 1, 1, tzinfo=UTC)

TEXT_PL = """\
# Polityka prywatności MCX Telecom

## 1. Nie sprzedajemy i nie udostępniamy Twoich danych

MCX Telecom nie sprzedaje danych osobowych ani adresowych swoich klientów i użytkowników, także adresów e-mail, i nie przekazuje ich innym firmom. Portal prywatności nie pobiera niczego z serwerów innych firm: żadnych czcionek, skryptów ani narzędzi analitycznych. Twoje dane widzisz Ty, osoby przez Ciebie upoważnione (tylko w zakresie pokoi i nagrań) oraz uprawnieni pracownicy MCX.

## 2. Jakie dane mamy i po co

Prowadzimy bazę naszych klientów i użytkowników usług. Zbieramy tylko to, czego potrzebujemy do świadczenia usług: imię i nazwisko, nazwę firmy i NIP (u firm), adres e-mail i telefon kontaktowy, adres pocztowy, dane umowy, pokoje i nagrania, osoby upoważnione oraz historię Twoich zgód. W portalu przy każdej kategorii danych podajemy cel, podstawę prawną, źródło i okres przechowywania.

## 3. Do czego używamy danych kontaktowych

Imienia, nazwiska, adresu e-mail i telefonu używamy, aby świadczyć zamówione usługi i sprzedawać nasze produkty, a także aby skontaktować się z Tobą, gdy jest to potrzebne: potwierdzić zmianę, którą wprowadzasz, przekazać decyzję w sprawie wniosku albo informację o umowie. Takie wiadomości serwisowe nie są marketingiem i wysyłamy je zawsze.

Informacje o nowych usługach i produktach wysyłamy tylko wtedy, gdy się na to zgodzisz, osobno dla każdego kanału: e-maila, SMS-ów i rozmów telefonicznych. Zgodę możesz wycofać w portalu jednym kliknięciem, tak samo łatwo, jak jej udzielić.

## 4. Dane z formularza zamówienia

Dane podane w formularzu zamówienia służą do uruchomienia usługi osobistej wideokonferencji na komputerze oraz do nadania wskazanym przez Ciebie osobom dostępu do pokoi wideokonferencyjnych i telekonferencyjnych, a także do nagrań z pokoi z nagrywaniem. Osoby upoważnione dodajesz i usuwasz w portalu, określając, do których pokoi i czy do nagrań mają dostęp; każde nowe upoważnienie sprawdza moderator MCX.

## 5. Komu przekazujemy dane

Nikomu, chyba że wcześniej wyrazisz na to zgodę albo zobowiązują nas do tego przepisy prawa. Każde przekazanie danych wymagane przez prawo zapisujemy i pokazujemy w Twoim dzienniku aktywności w portalu.

## 6. Nagrania

Nagrania z pokoi z nagrywaniem przechowujemy, ponieważ są częścią zamówionej usługi. Dostęp do nich mają tylko osoby przez Ciebie upoważnione, których zakres obejmuje nagrania; każde pobranie jest zapisywane. Nagrań nie udostępniamy nikomu innemu, chyba że wymagają tego przepisy prawa.

Gdy umowa się kończy, trwale usuwamy wszystkie nagrania z Twoich pokoi z nagrywaniem wraz z ich opisami i wystawiamy potwierdzenie usunięcia, które możesz pobrać.

## 7. Bezpieczeństwo

Chronimy dane przed utratą, niewłaściwym wykorzystaniem i modyfikacją. Pracownicy MCX mają tylko takie uprawnienia, jakich wymaga ich praca, a dane osobowe widzą domyślnie zamaskowane; każde ich odsłonięcie jest zapisywane. Dziennik zdarzeń jest zabezpieczony tak, że nie da się go niepostrzeżenie zmienić.

## 8. Zmiany tej polityki

Nową wersję polityki publikujemy w portalu. Każda wersja ma numer, datę i opis zmian; wcześniejsze wersje pozostają dostępne i można je ze sobą porównać. Po zalogowaniu poprosimy Cię o potwierdzenie, że zapoznałeś się lub zapoznałaś się z nową wersją. Przy każdej zgodzie zapisujemy wersję polityki, która obowiązywała w chwili jej udzielenia.

## 9. Kontakt

W sprawach danych osobowych pisz na adres prywatnosc@mcx.pl.
"""

TEXT_EN = """\
# MCX Telecom privacy policy

## 1. We do not sell or share your data

MCX Telecom does not sell the personal or address data of its customers and users, e-mail addresses included, and does not pass it on to other companies. The privacy portal loads nothing from other companies' servers: no fonts, scripts or analytics. Your data is seen by you, by the persons you have authorized (only as far as rooms and recordings go), and by permitted MCX staff.

## 2. What data we hold, and why

We keep a database of our customers and the users of our services. We collect only what we need to provide the services: first and last name, company name and tax ID (for companies), contact e-mail and phone, postal address, contract details, rooms and recordings, authorized persons, and the history of your consents. In the portal we state the purpose, legal basis, source and retention period of every category of data.

## 3. How we use your contact details

We use your name, e-mail address and phone number to provide the services you ordered and to sell our products, and to contact you when we need to: to confirm a change you make, to tell you the decision on a request, or to inform you about your contract. Such service messages are not marketing, and we always send them.

We send information about new services and products only if you agree to it, separately for each channel: e-mail, text messages and phone calls. You can withdraw your consent in the portal with one click, just as easily as you gave it.

## 4. Data from the order form

The data you give in the order form is used to activate the personal PC video-conferencing service and to give the persons you name access to video-conference and teleconference rooms, and to the recordings of rooms with recording. You add and remove authorized persons in the portal, choosing which rooms they may use and whether they may see recordings; an MCX moderator checks every new authorization.

## 5. Who receives your data

No one, unless you have agreed to it beforehand or the law requires it. We record every disclosure the law requires and show it in your activity log in the portal.

## 6. Recordings

We keep the recordings of rooms with recording because they are part of the service you ordered. Only the persons you have authorized, with a scope that includes recordings, can reach them; every download is logged. We do not give recordings to anyone else unless the law requires it.

When your contract ends, we permanently delete every recording of your rooms with recording, together with its description, and issue a deletion receipt you can download.

## 7. Security

We protect data against loss, misuse and modification. MCX staff have only the access their work needs, and they see personal data masked by default; every time they reveal it, this is logged. The event log is protected so that it cannot be changed unnoticed.

## 8. Changes to this policy

We publish each new version of the policy in the portal. Every version has a number, a date and a summary of changes; earlier versions stay available and can be compared. After you sign in, we ask you to confirm that you have read the new version. With every consent we record the version of the policy in force when it was given.

## 9. Contact

For anything about your personal data, write to prywatnosc@mcx.pl.
"""

SUMMARY_PL = "Pierwsza wersja polityki prywatności opublikowana w portalu."
SUMMARY_EN = "The first version of the privacy policy published in the portal."


def ensure_first_policy() -> PolicyVersion:
    """Publish version 1.0 unless it is there already (flushes, never commits)."""
    existing = db.session.query(PolicyVersion).filter_by(version=VERSION).one_or_none()
    if existing is not None:
        return existing
    return services.publish_policy(version=VERSION, text_pl=TEXT_PL, text_en=TEXT_EN, summary_pl=SUMMARY_PL,
                                   summary_en=SUMMARY_EN, publisher=None, published_at=PUBLISHED_AT)
