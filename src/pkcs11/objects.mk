# objects and crypto of the PKCS#11 front (libp11u-objects.la)
