//go:build !amd64

package main

// int80 exists only on x86_64; elsewhere the mode fails.
func int80(nr, a1, a2, a3 uintptr) uintptr {
	fail("int80: x86_64 only")
	return 0
}
