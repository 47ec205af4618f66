// SPDX-License-Identifier: MIT
// http_static: static files over HTTP/1.1. Python counterpart:
// http.server.SimpleHTTPRequestHandler, plus Range (206/416), ETag /
// If-None-Match, zero-copy sending and strict containment in `directory`.
// The handler and what it stands on are shared with cgi, in
// plugins/common/files/ (files::SimpleHTTPRequestHandler, files::Config).
//
// [server.options] (every key optional; the HTTP layer's limits such as
// max_request_line or keepalive_timeout are accepted too; any other key is
// an error at start-up):
//
//   [server.options]
//   directory       = "www"      # string, default ".": the document root. Relative
//                                # paths are relative to the host's working directory.
//                                # Must exist and be a directory (checked at start-up,
//                                # resolved once to its canonical path).
//   index           = ["index.html", "index.htm"]
//                                # array of strings, default as shown: files served for a
//                                # directory URL, first existing regular file wins. Plain
//                                # names only (no '/', not "." or "..").
//   listing         = true       # bool, default true: a directory without an index file
//                                # gets Python's HTML listing; false -> 403 Forbidden.
//   follow_symlinks = false      # bool, default false: false = a path whose realpath
//                                # leaves `directory` is refused (403); true = symlinks
//                                # are followed wherever they point.
//   show_dotfiles   = false      # bool, default false: false = any path segment starting
//                                # with '.' answers 404 and is left out of listings.
//   cache_control   = "max-age=3600"
//                                # string, default unset: sent verbatim as Cache-Control on
//                                # file responses (200, 206, 304) when set.
//   etag            = true       # bool, default true: send a strong ETag (inode, size,
//                                # mtime) and honour If-None-Match / If-Match / If-Range
//                                # entity tags; false = Last-Modified only.
//   open_file_cache = 1000       # integer 0..100000, default 1000: how many files the
//                                # server keeps open with their response fields made
//                                # (like nginx's open_file_cache). A cached file is served
//                                # with no open, fstat or close. 0 = no cache: every
//                                # request opens the file anew. Each cached file larger
//                                # than open_file_cache_inline holds one fd.
//   open_file_cache_valid = 1.0  # number (s) in (0, 3600], default 1.0: how long a cached
//                                # file is served without looking at the file system.
//                                # After that the next request opens it again (the same
//                                # containment and symlink checks as an uncached open):
//                                # unchanged (device, inode, size, mtime, ctime) -> kept;
//                                # changed -> replaced; gone or refused -> dropped and
//                                # answered as without a cache. So for up to this long a
//                                # changed, deleted or swapped file may still be served as
//                                # it was; set open_file_cache = 0 where that matters.
//   open_file_cache_inline = 16384
//                                # integer 0..1048576 (bytes), default 16384: cached files
//                                # up to this size are held in memory and sent with the
//                                # response head in one send; larger ones go by sendfile
//                                # from the cached fd.
//
// Methods: GET and HEAD. Every other method gets the base class's 501 Not
// Implemented, as Python's server does: a static server supports no other
// method on any resource (RFC 9110 15.6.2), so 405 would be the wrong claim.
#pragma once

#include <sockhost/sdk/options.hpp>
#include <sockhost/sdk/plugin.hpp>

namespace sockhost::plugins::http_static {

/// PluginInfo::validate_options: HTTP layer keys + files::kOptionKeys,
/// nothing else; then files::Config::from_options. Throws sdk::OptionError.
void validate_options(const sdk::Options& options);

/// PluginInfo::make_factory: parses the options once and returns a factory
/// whose files::SimpleHTTPRequestHandlers share that Config. Stream
/// transport only (nullptr else).
sdk::HandlerFactory make_factory(const sdk::Options& options);

}  // namespace sockhost::plugins::http_static
