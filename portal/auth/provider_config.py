"""The identity providers the portal accepts, and what each one is trusted to vouch for.

A provider's verified e-mail is what links a new (issuer, subject) pair to a customer, a
delegate invitation or a staff role (SPEC "Identity and sign-in"). Not every provider may
vouch for every address: an employer's SSO speaks for its own staff's addresses only, so it
may link delegate invitations within its domains and never a customer or a staff role
(SPEC "Trust per identity provider").
"""
from __future__ import annotations

import json
from dataclasses import dataclass

LINK_KINDS = ("customers", "delegates", "staff")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


class ProviderConfigError(RuntimeError):
    """The environment describes a provider the portal cannot use."""


@dataclass(frozen=True)
class Provider:
    """One OpenID provider the portal accepts sign-ins from.

    `links`: which records its verified e-mail may link ("customers", "delegates", "staff").
    `domains`: the e-mail domains it speaks for; None means any domain, () means none (it
    then links nothing, but pairs already linked keep signing in). The defaults are those of
    a provider that is not the primary one.
    `token_endpoint_auth_method`: how the portal authenticates at its token endpoint.
    """

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    links: frozenset[str] = frozenset({"delegates"})
    domains: tuple[str, ...] | None = ()
    token_endpoint_auth_method: str = "client_secret_basic"

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def speaks_for(self, email: str) -> bool:
        """May this provider vouch for `email`'s domain? (exact domain, compared as
        portal.addresses.matching_key compares them: IDNA form, lower case)"""
        if self.domains is None:
            return True
        from portal.addresses import matching_key

        domain = (matching_key(email) or "").rpartition("@")[2]
        return bool(domain) and any(matching_key(f"x@{d}") == f"x@{domain}" for d in self.domains)


def _links(value, where: str) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ProviderConfigError(f"{where}: links must be a list of {', '.join(LINK_KINDS)}")
    links = frozenset(str(item).strip() for item in items if str(item).strip())
    unknown = links - set(LINK_KINDS)
    if unknown:
        raise ProviderConfigError(f"{where}: unknown links {sorted(unknown)}; choose from {', '.join(LINK_KINDS)}")
    return links


def _domains(value, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ProviderConfigError(f"{where}: domains must be a list of e-mail domains")
    domains = tuple(str(item).strip().lower().lstrip("@") for item in items if str(item).strip())
    if any("@" in d or "." not in d for d in domains):
        raise ProviderConfigError(f"{where}: domains must be e-mail domains such as acme.pl, not {list(domains)}")
    return domains


def _method(value, where: str) -> str:
    if value not in TOKEN_AUTH_METHODS:
        raise ProviderConfigError(f"{where}: token_endpoint_auth_method must be one of {', '.join(TOKEN_AUTH_METHODS)}")
    return value


def providers_from_env(env: dict[str, str], *, issuer: str, client_id: str, client_secret: str) -> list[Provider]:
    """The primary provider (PORTAL_OIDC_*) and the extra ones (PORTAL_OIDC_PROVIDERS, JSON).

    Raises ProviderConfigError naming the variable at fault.
    """
    primary_domains = env.get("PORTAL_OIDC_DOMAINS", "").strip()
    providers = [Provider(
        name="mcx",
        label=env.get("PORTAL_OIDC_LABEL", "MCX"),
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        links=_links(env.get("PORTAL_OIDC_LINKS", ",".join(LINK_KINDS)), "PORTAL_OIDC_LINKS"),
        domains=_domains(primary_domains, "PORTAL_OIDC_DOMAINS") if primary_domains else None,
        token_endpoint_auth_method=_method(env.get("PORTAL_OIDC_TOKEN_AUTH_METHOD", "client_secret_basic"),
                                           "PORTAL_OIDC_TOKEN_AUTH_METHOD"),
    )]
    extra = env.get("PORTAL_OIDC_PROVIDERS")
    if not extra:
        return providers
    try:
        entries = json.loads(extra)
        for entry in entries:
            where = f"PORTAL_OIDC_PROVIDERS[{entry['name']}]"
            providers.append(Provider(
                name=str(entry["name"]),
                label=str(entry.get("label") or entry["name"]),
                issuer=str(entry["issuer"]).rstrip("/"),
                client_id=str(entry["client_id"]),
                client_secret=str(entry.get("client_secret", "")),
                links=_links(entry.get("links", ["delegates"]), where),
                domains=_domains(entry.get("domains", []), where),
                token_endpoint_auth_method=_method(entry.get("token_endpoint_auth_method", "client_secret_basic"),
                                                   where),
            ))
    except (ValueError, TypeError, KeyError) as exc:
        raise ProviderConfigError(
            "PORTAL_OIDC_PROVIDERS must be a JSON list of objects with name, issuer, "
            f"client_id and client_secret: {exc}"
        ) from exc
    return providers
