"""The TechEmpower "Fortunes" page, the reference the page benchmark compares against
(scripts/bench_pages.py; issue #15).

The TechEmpower rules (Framework Benchmarks, "Test type 4: Fortunes"): read every row of a
`fortune` table (12 rows) with the ORM, add one fortune at request time ("Additional fortune added
at request time."), sort by message, render an HTML table through the framework's template engine
(here a Jinja template compiled once), escaping the messages. Flask-SQLAlchemy, like the portal.

    FORTUNES_DATABASE_URL=sqlite:////tmp/fortunes.sqlite3 gunicorn -c gunicorn.conf.py \
        --chdir scripts fortunes_app:app
"""
from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

# the 12 rows of TechEmpower's fortune table (its escaping test included)
MESSAGES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("FORTUNES_DATABASE_URL", "sqlite:////tmp/fortunes.sqlite3")
db = SQLAlchemy(app)


class Fortune(db.Model):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


TEMPLATE = app.jinja_env.from_string(
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for fortune in fortunes %}<tr><td>{{ fortune.id }}</td><td>{{ fortune.message }}</td></tr>{% endfor %}"
    "</table></body></html>")


def fill() -> None:
    """Create the table with its 12 rows, once."""
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(db.func.count(Fortune.id))) == 0:
            db.session.add_all(Fortune(id=i, message=m) for i, m in enumerate(MESSAGES, start=1))
            try:
                db.session.commit()
            except IntegrityError:  # the other gunicorn worker, starting at the same time, filled it
                db.session.rollback()


@app.get("/fortunes")
def fortunes():
    rows = list(db.session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=lambda fortune: fortune.message)
    body = TEMPLATE.render(fortunes=rows)
    return body, 200, {"Content-Type": "text/html; charset=utf-8"}


fill()
