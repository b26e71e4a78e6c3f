// Package testpki is the test scaffolding the packages' tests share: a
// small PKI (root, intermediate, leaf, self-signed and expired
// certificates, each with its key and PEM), a loopback address that
// refuses connections, and the key pairs the development CA keeps in its
// state directory.
//
// It is for tests only: import it from _test.go files and from test
// helper packages, never from a package the provider binary is built
// from (imports_test.go checks the binary's dependencies). It imports
// nothing of this module, so every package's tests may use it.
package testpki
