#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""detour.conf(5) from docs/config.md: one source, so the man page cannot drift from the doc.

    config-man.py docs/config.md VERSION OUT.5      write the man page
    config-man.py --keys docs/config.md             print "SECTION KEY DEFAULT-CELL" per table row

The converter knows the restricted Markdown docs/config.md is written in: "#" headings, paragraphs,
"-" and "1." lists (continued on indented lines), ``` fences and 4-space code blocks, pipe tables,
`code`, **bold**, *italic* and [text](link). A key table (first column `key`) becomes one .TP
entry per key. Anything else is an error naming the line, so a new construct is noticed here
rather than rendered wrong. Sections named in SKIP (the developer's recipe) are left out.
"""
import os
import re
import sys
import time

SKIP = {"Adding a key"}
DATE = "2026-12-04"  # of the man page when SOURCE_DATE_EPOCH is not set
SEE_ALSO = r""".SH FILES
.TP
.I /etc/detour/detour.conf
The configuration file (a conffile of the Debian package: a commented example).
.TP
.I /etc/detour/detour.keys
The heartbeat keys (\fBkey_file\fR), written by \fBdetourctl keygen\fR; root only, mode 0600.
.SH SEE ALSO
.BR detourd (8),
.BR detourctl (8),
.BR detour-beacon (8)
"""


class Error(Exception):
    pass


def esc_text(s):
    """Escape plain text for roff (not at line start: see line())."""
    s = s.replace("\\", "\\e")
    out = []
    for ch in s:
        if ord(ch) > 126:
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def esc_code(s):
    return esc_text(s).replace("-", "\\-")


INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(([^)]+)\)")


def inline(s):
    """Markdown inline markup to roff font escapes."""
    out, pos = [], 0
    for m in INLINE.finditer(s):
        out.append(esc_text(s[pos:m.start()]))
        code, bold, ital, ltext, link = m.groups()
        if code is not None:
            out.append("\\fB" + esc_code(code) + "\\fR")
        elif bold is not None:
            out.append("\\fB" + inline(bold) + "\\fR")
        elif ital is not None:
            out.append("\\fI" + inline(ital) + "\\fR")
        else:
            out.append(inline(ltext))
            if not link.startswith("#"):
                out.append(" (" + esc_text(link) + ")")
        pos = m.end()
    out.append(esc_text(s[pos:]))
    return "".join(out)


def line(s):
    """A roff text line: one that starts with . or ' would be a request."""
    return "\\&" + s if s[:1] in (".", "'") else s


def split_row(s):
    cells = re.split(r"(?<!\\)\|", s.strip())
    if cells[0].strip() or cells[-1].strip():
        raise Error("a table row must start and end with |")
    return [c.strip().replace("\\|", "|") for c in cells[1:-1]]


def table_keys(first_cell):
    """The keys a key table's row documents: `a`, `b`, `c` in its first cell."""
    return re.findall(r"`([a-z_]+)`", first_cell)


def section_of(heading):
    m = re.match(r"`\[(detour|site) ?[A-Z]*\]`", heading)
    return m.group(1) if m else None


def parse(lines):
    """Blocks: (kind, lineno, data), kinds title, h2, h3, para, list, code, table."""
    blocks, i, n = [], 0, len(lines)
    while i < n:
        s, no = lines[i], i + 1
        if not s.strip():
            i += 1
        elif s.startswith("```"):
            j = i + 1
            while j < n and not lines[j].startswith("```"):
                j += 1
            if j == n:
                raise Error("line %d: unterminated ``` block" % no)
            blocks.append(("code", no, lines[i + 1:j]))
            i = j + 1
        elif s.startswith("    "):
            j = i
            while j < n and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            body = [x[4:] for x in lines[i:j]]
            while body and not body[-1].strip():
                body.pop()
            blocks.append(("code", no, body))
            i = j
        elif s.startswith("#"):
            m = re.match(r"(#{1,3}) (.+)$", s)
            if not m:
                raise Error("line %d: heading not understood" % no)
            kind = {1: "title", 2: "h2", 3: "h3"}[len(m.group(1))]
            blocks.append((kind, no, m.group(2).strip()))
            i += 1
        elif s.startswith("|"):
            rows = []
            while i < n and lines[i].startswith("|"):
                try:
                    rows.append(split_row(lines[i]))
                except Error as e:
                    raise Error("line %d: %s" % (i + 1, e))
                i += 1
            if len(rows) < 2 or not all(re.fullmatch(r":?-+:?", c) for c in rows[1]):
                raise Error("line %d: a table needs a header and a --- row" % no)
            for k, r in enumerate(rows[2:]):
                if len(r) != len(rows[0]):
                    raise Error("line %d: %d cells, the header has %d" %
                                (no + 2 + k, len(r), len(rows[0])))
            blocks.append(("table", no, (rows[0], rows[2:])))
        elif re.match(r"(- |\d+\. )", s):
            items, ordered = [], bool(re.match(r"\d+\. ", s))
            while i < n and lines[i].strip():
                m = re.match(r"(- |\d+\. )(.*)$", lines[i])
                if m:
                    items.append(m.group(2))
                elif lines[i].startswith("  ") and items:
                    items[-1] += " " + lines[i].strip()
                else:
                    raise Error("line %d: list line not understood" % (i + 1))
                i += 1
            blocks.append(("list", no, (ordered, items)))
        else:
            text = []
            while i < n and lines[i].strip() and not re.match(r"(#|\||```|- |\d+\. )", lines[i]):
                text.append(lines[i].strip())
                i += 1
            blocks.append(("para", no, " ".join(text)))
    return blocks


def render(blocks, version, date):
    out = []
    title = [b for b in blocks if b[0] == "title"]
    if len(title) != 1:
        raise Error("expected one '# title' line")
    out.append('.\\" SPDX-License-Identifier: GPL-2.0-only')
    out.append('.\\" Generated from docs/config.md by docs/man/config-man.py: edit that file.')
    out.append('.TH DETOUR.CONF 5 %s "Detour %s" "File Formats"' % (date, version))
    out.append(".SH NAME")
    out.append("detour.conf \\- configuration file of detourd, the Detour traffic rerouter")
    out.append(".SH DESCRIPTION")
    skipping = False
    for kind, no, data in blocks:
        if kind == "title":
            continue
        if kind == "h2":
            skipping = data in SKIP
            if not skipping:
                out.append('.SH "%s"' % inline(data).replace('"', '""'))
            continue
        if skipping:
            continue
        if kind == "h3":
            out.append('.SS "%s"' % inline(data).replace('"', '""'))
        elif kind == "para":
            out.append(".PP")
            out.append(line(inline(data)))
        elif kind == "list":
            ordered, items = data
            for k, item in enumerate(items):
                out.append(".IP %s 4" % ("%d." % (k + 1) if ordered else "\\(bu"))
                out.append(line(inline(item)))
            out.append(".PP")
        elif kind == "code":
            out.append(".PP")
            out.append(".RS 4")
            out.append(".nf")
            out.extend(line(esc_text(x)) for x in data)
            out.append(".fi")
            out.append(".RE")
        elif kind == "table":
            head, rows = data
            if head[0] != "key":
                raise Error("line %d: only key tables are known (first column 'key')" % no)
            for r in rows:
                out.append(".TP")
                out.append(line(inline(r[0])))
                for h, c in zip(head[1:-1], r[1:-1]):
                    out.append(line("%s: %s" % (esc_text(h.capitalize()), inline(c))))
                    out.append(".br")
                out.append(line(inline(r[-1])))
    out.append(SEE_ALSO.rstrip("\n"))
    return "\n".join(out) + "\n"


def keys(blocks):
    """(section, key, default cell) of every key table row, section from the heading above."""
    found, section = [], None
    for kind, no, data in blocks:
        if kind == "h2":
            section = section_of(data)
        elif kind == "table" and data[0][0] == "key":
            if section is None:
                raise Error("line %d: a key table outside a [detour] or [site] section" % no)
            for r in data[1]:
                for k in table_keys(r[0]):
                    found.append((section, k, r[1]))
    return found


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "--keys":
            with open(argv[2], encoding="utf-8") as f:
                for sec, k, d in keys(parse(f.read().splitlines())):
                    print("%s %s %s" % (sec, k, d))
            return 0
        if len(argv) != 4:
            sys.stderr.write(__doc__)
            return 2
        src, version, dst = argv[1:]
        with open(src, encoding="utf-8") as f:
            blocks = parse(f.read().splitlines())
        # Reproducible: dpkg-buildpackage sets SOURCE_DATE_EPOCH from debian/changelog.
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        date = (time.strftime("%Y-%m-%d", time.gmtime(int(epoch))) if epoch else DATE)
        text = render(blocks, version, date)
        with open(dst, "w", encoding="ascii") as f:
            f.write(text)
        return 0
    except Error as e:
        sys.stderr.write("%s: %s\n" % (argv[1] if argv[1] != "--keys" else argv[2], e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
