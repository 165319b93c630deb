#!/usr/bin/env python3
"""A small HTTPS server for the client tests: it requires a client certificate issued by the
given CAs and answers every GET with a page naming the certificate it got.

  tls-server.py --cert SERVER.pem --key SERVER.key --client-ca CAS.pem --port-file FILE
                [--host 127.0.0.1] [--log FILE]

It listens on a free port of HOST (written to FILE once it accepts connections) until
SIGTERM.  Paths:
  /          an HTML page: the client certificate's subject, issuer, serial, and the TLS
             version and cipher (what the README's screenshot shows)
  /cert.pem  the client certificate, PEM (what the tests compare with the card's)
A handshake without an acceptable client certificate fails (the server requires one).
--log FILE gets one JSON line per request, what the server itself saw: path, the client
certificate's subject, issuer, serial and SHA-256 (of its DER), the TLS version and cipher;
tests assert on it rather than on how a browser rendered the page.
Only the Python standard library.
"""

import argparse
import hashlib
import html
import json
import http.server
import os
import signal
import ssl
import sys


def name_text(name):
	"""A certificate name from ssl.getpeercert() as "C=TW, O=..."."""
	parts = []
	for rdn in name:
		for key, value in rdn:
			short = {"countryName": "C", "organizationName": "O",
				"organizationalUnitName": "OU", "commonName": "CN"}.get(key, key)
			parts.append("%s=%s" % (short, value))
	return ", ".join(parts)


class Handler(http.server.BaseHTTPRequestHandler):
	server_version = "p11unlock-test-tls"

	def do_GET(self):
		der = self.connection.getpeercert(binary_form=True)
		cert = self.connection.getpeercert()
		if self.server.log_file:
			record = {"path": self.path, "subject": name_text(cert.get("subject", ())),
				"issuer": name_text(cert.get("issuer", ())),
				"serial": cert.get("serialNumber", ""),
				"sha256": hashlib.sha256(der).hexdigest(),
				"tls": self.connection.version(), "cipher": self.connection.cipher()[0]}
			with open(self.server.log_file, "a", encoding="utf-8") as f:
				f.write(json.dumps(record, ensure_ascii=False) + "\n")
		if self.path == "/cert.pem":
			body = ssl.DER_cert_to_PEM_cert(der).encode("ascii")
			ctype = "application/x-pem-file"
		else:
			rows = [
				("Subject", name_text(cert.get("subject", ()))),
				("Issuer", name_text(cert.get("issuer", ()))),
				("Serial number", cert.get("serialNumber", "")),
				("Valid until", cert.get("notAfter", "")),
				("TLS", "%s, %s" % (self.connection.version(), self.connection.cipher()[0])),
			]
			table = "\n".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(v))
				for k, v in rows)
			body = ("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Client certificate accepted</title>
<style>
body { font-family: sans-serif; margin: 2em; }
th { text-align: left; padding-right: 1.5em; vertical-align: top; }
td, th { padding-bottom: 0.4em; }
</style></head>
<body>
<h1>Client certificate accepted</h1>
<p>The server asked for a certificate from the card's issuing CA; the browser signed the
handshake with the key on the card.</p>
<table>
%s
</table>
</body></html>
""" % table).encode("utf-8")
			ctype = "text/html; charset=utf-8"
		self.send_response(200)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(body)))
		self.send_header("Connection", "close")
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, fmt, *args):
		sys.stderr.write("tls-server: %s\n" % (fmt % args))


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--cert", required=True)
	parser.add_argument("--key", required=True)
	parser.add_argument("--client-ca", required=True)
	parser.add_argument("--port-file", required=True)
	parser.add_argument("--host", default="127.0.0.1")
	parser.add_argument("--log", help="one JSON line per request: what the server saw")
	opts = parser.parse_args()

	context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	context.load_cert_chain(opts.cert, opts.key)
	context.load_verify_locations(opts.client_ca)
	context.verify_mode = ssl.CERT_REQUIRED

	server = http.server.ThreadingHTTPServer((opts.host, 0), Handler)
	server.daemon_threads = True
	server.log_file = opts.log
	server.socket = context.wrap_socket(server.socket, server_side=True)
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
	tmp = opts.port_file + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % server.server_address[1])
	os.rename(tmp, opts.port_file)
	try:
		server.serve_forever()
	finally:
		server.server_close()


if __name__ == "__main__":
	main()
