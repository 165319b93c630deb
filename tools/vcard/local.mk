# filled in by the tools/vcard work
