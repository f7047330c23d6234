#!/usr/bin/env python3
"""usage: make_dump.py FORMAT TIMES DUMP.jsonl... > OUT

Writes the comments of JSON Lines dumps TIMES times over as one dump in
FORMAT: jsonl, csv (with a header), mt (Movable Type export) or wxr
(WordPress WXR), for measuring the readers on large inputs. Ids get a
suffix per repetition so that every record is distinct."""
import csv
import json
import sys
from xml.sax.saxutils import escape

FIELDS = ["id", "type", "author", "email", "url", "ip", "user_agent", "body", "created", "label", "blog_name",
          "title", "excerpt", "source_url"]


def records(paths):
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def mt_date(iso):
    # 2024-01-02T10:00:00Z -> 01/02/2024 10:00:00 AM
    if not iso or len(iso) < 19:
        return ""
    y, mo, d, h, mi, s = iso[0:4], iso[5:7], iso[8:10], int(iso[11:13]), iso[14:16], iso[17:19]
    return "%s/%s/%s %02d:%s:%s %s" % (mo, d, y, (h % 12) or 12, mi, s, "PM" if h >= 12 else "AM")


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def main():
    fmt, times, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    recs = list(records(paths))
    out = sys.stdout
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(FIELDS)
    elif fmt == "wxr":
        out.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
                  'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n<item>\n<wp:post_id>1</wp:post_id>\n')
    for n in range(times):
        for r in recs:
            r = dict(r)
            r["id"] = "%s/%d" % (r.get("id", ""), n)
            body = r.get("body") or ""
            if fmt == "jsonl":
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
            elif fmt == "csv":
                w.writerow([r.get(k) or "" for k in FIELDS])
            elif fmt == "mt":
                if (r.get("type") or "comment") != "comment":
                    continue  # trackbacks and pingbacks would be PING sections with other fields
                # A comment per entry; a body line of dashes would end the section.
                lines = ["-" * 4 + "." if set(l.strip()) == {"-"} else l for l in body.split("\n")]
                out.write("AUTHOR: blog\nTITLE: post %s\n-----\nCOMMENT:\nAUTHOR: %s\nEMAIL: %s\nIP: %s\nURL: %s\n"
                          "DATE: %s\n%s\n-----\n--------\n" % (
                              r["id"], (r.get("author") or "").replace("\n", " "), r.get("email") or "",
                              r.get("ip") or "", r.get("url") or "", mt_date(r.get("created") or ""),
                              "\n".join(lines)))
            elif fmt == "wxr":
                approved = {"spam": "spam", "ham": "1"}.get(r.get("label") or "", "0")
                out.write("<wp:comment><wp:comment_id>%s</wp:comment_id><wp:comment_author>%s</wp:comment_author>"
                          "<wp:comment_author_email>%s</wp:comment_author_email>"
                          "<wp:comment_author_url>%s</wp:comment_author_url>"
                          "<wp:comment_author_IP>%s</wp:comment_author_IP>"
                          "<wp:comment_agent>%s</wp:comment_agent><wp:comment_date_gmt>%s</wp:comment_date_gmt>"
                          "<wp:comment_content>%s</wp:comment_content>"
                          "<wp:comment_approved>%s</wp:comment_approved><wp:comment_type>%s</wp:comment_type>"
                          "</wp:comment>\n" % (
                              escape(r["id"]), cdata(r.get("author") or ""), escape(r.get("email") or ""),
                              escape(r.get("url") or ""), escape(r.get("ip") or ""),
                              escape(r.get("user_agent") or ""),
                              (r.get("created") or "").replace("T", " ").rstrip("Z")[:19], cdata(body), approved,
                              escape(r.get("type") or "comment")))
            else:
                sys.exit("unknown format " + fmt)
    if fmt == "wxr":
        out.write("</item>\n</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
