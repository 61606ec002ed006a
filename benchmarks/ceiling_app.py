"""The ceiling for bench_pages.py: a bare Flask + Jinja page of about the same size as the
portal's municipality page, with no database and no extensions."""

from __future__ import annotations

from flask import Flask, render_template
from jinja2 import DictLoader

app = Flask(__name__)

SERVICES = [
    {"name": name, "slug": slug, "price": price, "description": desc}
    for name, slug, price, desc in [
        ("Poplatek za komunální odpad", "odpad", "800 Kč", "Místní poplatek za obecní systém odpadového hospodářství na osobu a rok."),
        ("Poplatek ze psů", "psi", "300 Kč", "Roční poplatek za jednoho psa."),
        ("Poplatek z pobytu", "pobyt", "částku zadáte", "Poplatek z pobytu za osobu a den; zadejte celkovou částku."),
        ("Užívání veřejného prostranství", "prostranstvi", "částku zadáte", "Poplatek za zábor veřejného prostranství podle vyhlášky obce."),
    ]
]

TEMPLATE = """<!doctype html>
<html lang="cs">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }} – Platební portál obcí Libereckého kraje</title>
<link rel="stylesheet" href="/static/portal.css">
</head>
<body>
<a class="skip-link" href="#main">Přeskočit na obsah</a>
<header class="site-header">
  <div class="container header-row">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">₭</span>
      <span>Platební portál<small>obcí Libereckého kraje</small></span></a>
    <nav aria-label="Jazyk a účet" class="header-nav"><a href="?lang=en" lang="en" hreflang="en">English</a></nav>
  </div>
</header>
<main id="main" class="container" tabindex="-1">
<nav aria-label="Drobečková navigace" class="breadcrumbs"><a href="/">Obce</a> › <span aria-current="page">{{ name }}</span></nav>
<h1>{{ name }}</h1>
<p class="muted">IČO {{ ico }} · okres {{ district }}</p>
<p class="alert alert-info">Tato obec je ve zkušebním režimu: platby probíhají přes demo bránu a nejsou skutečné.</p>
<h2>Co můžete zaplatit</h2>
<ul class="card-list">
  {% for s in services %}
  <li class="card">
    <a href="/obec/{{ slug }}/{{ s.slug }}">{{ s.name }}</a>
    <span class="price">{{ s.price }}</span>
    <p class="muted">{{ s.description }}</p>
  </li>
  {% endfor %}
</ul>
</main>
<footer class="site-footer"><div class="container"><p>Provozuje Agentura regionálního rozvoje Libereckého kraje.</p></div></footer>
</body>
</html>
"""


# A loader, like the portal's templates: compiled once per worker and cached, not per request.
app.jinja_loader = DictLoader({"municipality.html": TEMPLATE})


@app.get("/obec/<slug>")
def municipality(slug: str):  # type: ignore[no-untyped-def]
    return render_template(
        "municipality.html", name="Hrádek nad Nisou", ico="00262854", district="Liberec", slug=slug, services=SERVICES
    )
