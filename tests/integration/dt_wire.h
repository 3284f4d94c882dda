/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tiny request/answer format spoken by dt-client and dt-site-server (test programs only).
 *
 *   UDP request:  "DTQ <client-seq>"
 *   UDP answer:   "<site> <server-seq> DTQ <client-seq>"   (the request echoed after two words)
 *   TCP:          the server sends "<site>\n" on accept, then echoes every byte until EOF.
 *
 * The site name is what the integration tests read to learn which site answered.
 */
#ifndef DT_WIRE_H
#define DT_WIRE_H

#define DT_WIRE_PORT_DEFAULT 7000
#define DT_WIRE_SITE_MAX 32 /* site names, NUL included */
#define DT_WIRE_MSG_MAX 512 /* longest datagram either side sends or accepts */

#endif /* DT_WIRE_H */
