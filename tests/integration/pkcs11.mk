# pkcs11 integration tests
