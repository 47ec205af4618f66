#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Demo CGI script: GET shows a form; POST (application/x-www-form-urlencoded,
# with or without CONTENT_LENGTH: a chunked body has none and ends at EOF)
# echoes the submitted fields, HTML-escaped.
import html
import os
import sys
from urllib.parse import parse_qsl

MAX_BODY = 1 << 20


def page(title, body):
    out = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
           "<body>\n<h1>%s</h1>\n%s\n</body></html>\n") % (html.escape(title), html.escape(title), body)
    data = out.encode("utf-8")
    sys.stdout.buffer.write(b"Content-Type: text/html; charset=utf-8\r\n")
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(data))
    sys.stdout.buffer.write(data)


def form():
    return ('<form method="post" action="%s">\n'
            '<label>Name <input name="name"></label>\n'
            '<label>Message <textarea name="message"></textarea></label>\n'
            '<button type="submit">Send</button>\n</form>') % html.escape(os.environ.get("SCRIPT_NAME", ""))


def read_body():
    length = os.environ.get("CONTENT_LENGTH")
    if length:
        return sys.stdin.buffer.read(min(int(length), MAX_BODY))
    return sys.stdin.buffer.read(MAX_BODY)   # chunked: until EOF


def main():
    method = os.environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        page("Form", form())
        return
    if method != "POST":
        sys.stdout.write("Status: 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\n"
                         "Content-Type: text/plain\r\n\r\nGET or POST only\n")
        return
    ctype = os.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        sys.stdout.write("Status: 415 Unsupported Media Type\r\nContent-Type: text/plain\r\n\r\n"
                         "application/x-www-form-urlencoded only\n")
        return
    fields = parse_qsl(read_body().decode("utf-8", "replace"), keep_blank_values=True)
    rows = "\n".join("<li><b>%s</b>: %s</li>" % (html.escape(k), html.escape(v)) for k, v in fields)
    page("Form received", "<ul>\n%s\n</ul>\n%s" % (rows, form()))


main()
