/* SPDX-License-Identifier: MIT */
/* The smallest useful CGI program for bench/cgi_bench.sh: one header block and
   a short body, so the numbers measure the server's fork/exec and piping. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const char* q = getenv("QUERY_STRING");
    printf("Content-Type: text/plain\r\n\r\nhello from C, query=%s\n", q ? q : "");
    return 0;
}
