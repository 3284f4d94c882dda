#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""docs/config.md, detour.conf(5) and the key table cannot drift apart.

    test-config-man.py CONF_KEYS CONFIG_MD CONFIG_MAN_PY DETOUR_CONF_5

- every key of control/config/config_keys.c (printed by CONF_KEYS) has a row in the table of its
  section in docs/config.md, and every row there is a key of the table;
- a key with a default in the table shows that default in its "default" cell, and a required key
  says **required** there;
- the built detour.conf(5) is what config-man.py makes of docs/config.md now, and it has a .TP
  entry for every key under its section's heading;
- groff renders it without a warning.
"""
import subprocess
import sys
import tempfile

fails = 0


def check(ok, what):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        fails += 1


def man_keys(text):
    """(section, key) of every .TP entry, section from the .SH above it."""
    found, section, tag_next = set(), None, False
    for ln in text.splitlines():
        if ln.startswith(".SH"):
            section = ("detour" if "[detour]" in ln else "site" if "[site" in ln else None)
        elif ln == ".TP":
            tag_next = True
        elif tag_next:
            tag_next = False
            if section:
                for part in ln.split("\\fB")[1:]:
                    key = part.split("\\fR")[0].replace("\\-", "-")
                    found.add((section, key))
    return found


def main(argv):
    conf_keys, config_md, config_man, man5 = argv[1:5]
    table = {}
    for ln in subprocess.run([conf_keys], check=True, capture_output=True,
                             text=True).stdout.splitlines():
        sec, name, req, default = ln.split("\t")
        table[(sec, name)] = (req, default)
    check(len(table) > 20, "the key table has %d keys" % len(table))

    rows = subprocess.run([sys.executable, config_man, "--keys", config_md], check=True,
                          capture_output=True, text=True).stdout.splitlines()
    doc = {}
    for r in rows:
        sec, name, cell = r.split(" ", 2)
        doc[(sec, name)] = cell
    missing = sorted("[%s] %s" % k for k in table if k not in doc)
    extra = sorted("[%s] %s" % k for k in doc if k not in table)
    check(not missing, "every key of the table is in docs/config.md" +
          (": missing " + ", ".join(missing) if missing else ""))
    check(not extra, "docs/config.md documents no key the table lacks" +
          (": " + ", ".join(extra) if extra else ""))

    wrong = []
    for k, (req, default) in sorted(table.items()):
        cell = doc.get(k)
        if cell is None:
            continue
        if req == "required" and "**required**" not in cell:
            wrong.append("[%s] %s is required, its default cell says %r" % (k[0], k[1], cell))
        if default and "`%s`" % default not in cell:
            wrong.append("[%s] %s defaults to %r, its default cell says %r" %
                         (k[0], k[1], default, cell))
    check(not wrong, "every default and required key agrees with docs/config.md" +
          ("".join("\n#   " + w for w in wrong)))

    with open(man5, encoding="ascii") as f:
        built = f.read()
    with tempfile.NamedTemporaryFile(suffix=".5") as fresh:
        subprocess.run([sys.executable, config_man, config_md, "x", fresh.name], check=True)
        now = fresh.read().decode("ascii")
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith(".TH")]
    check(strip(built) == strip(now), "the built detour.conf(5) is made from docs/config.md as it is")

    in_man = man_keys(built)
    absent = sorted("[%s] %s" % k for k in table if k not in in_man)
    check(not absent, "detour.conf(5) has an entry for every key under its section" +
          (": missing " + ", ".join(absent) if absent else ""))

    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man5], capture_output=True,
                       text=True)
    check(r.returncode == 0 and not r.stderr.strip(),
          "groff renders detour.conf(5) without a warning" +
          ("".join("\n#   " + w for w in r.stderr.splitlines())))
    print("%d failed" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
