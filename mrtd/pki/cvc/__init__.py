"""Card verifiable certificates for Extended Access Control (BSI TR-03110 Part 3, Doc 9303-12 §7.2.2):
the CVCA -> Document Verifier -> Inspection System chain that lets a chip grant a terminal read access to
fingerprints (DG3) and irises (DG4). `certificate` is the codec and the lint, `store` the CV PKI kept in
a site's pki/cvc/ folder."""
