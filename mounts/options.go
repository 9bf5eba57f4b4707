package mounts

import "github.com/minispawn/minispawn/mounts/options"

// ParseOptions splits a mount(8)-style option string such as
// "ro,nosuid,rbind,rslave,size=64k" into mount(2) flags and the
// filesystem-specific data string; see options.Parse for the rules. The
// table lives in package options so that the configuration can use it
// without linking this package.
func ParseOptions(opts string) (flags uintptr, data string, err error) {
	return options.Parse(opts)
}

// FormatOptions is the inverse of ParseOptions (see options.Format).
func FormatOptions(flags uintptr, data string) string {
	return options.Format(flags, data)
}
