// Package bcpeer runs Bouncy Castle's CMP implementation (the Java library
// EJBCA's CMP is built on) as a CMP peer for interoperability tests: a client
// (testdata/BcCmpClient.java) that drives the development CA, and a server
// (testdata/BcCmpServer.java) that the client library answers to.
//
// The Java sources are test-only: Compile builds them with javac against the
// Bouncy Castle jars into a temporary directory. Find locates java, javac and
// the jars (Debian packages default-jdk-headless, libbcprov-java,
// libbcpkix-java and libbcutil-java, which .ci/run installs); without them
// the test is skipped, loudly, except under CI (environment variable CI
// set), where it fails.
//
// It is a test-only helper: every function takes a testing.TB and reports
// problems through it.
package bcpeer
