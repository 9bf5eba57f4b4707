package mounts

import (
	"fmt"
	"strings"
)

// option is one mount(8)-style option name and what it does to the flag
// word: the bits it sets and the bits it clears ("rw" clears MS_RDONLY).
type option struct {
	name       string
	set, clear uintptr
}

// options is the table behind ParseOptions and FormatOptions. Its order is
// the canonical output order of FormatOptions. Composite names ("rbind",
// "rslave") come before their plain forms so that formatting picks them.
var options = []option{
	{"ro", msRdonly, 0},
	{"rw", 0, msRdonly},
	{"nosuid", msNosuid, 0},
	{"suid", 0, msNosuid},
	{"nodev", msNodev, 0},
	{"dev", 0, msNodev},
	{"noexec", msNoexec, 0},
	{"exec", 0, msNoexec},
	{"sync", msSynchronous, 0},
	{"async", 0, msSynchronous},
	{"remount", msRemount, 0},
	{"mand", msMandlock, 0},
	{"nomand", 0, msMandlock},
	{"dirsync", msDirsync, 0},
	{"nosymfollow", msNosymfollow, 0},
	{"symfollow", 0, msNosymfollow},
	{"noatime", msNoatime, 0},
	{"atime", 0, msNoatime},
	{"nodiratime", msNodiratime, 0},
	{"diratime", 0, msNodiratime},
	{"relatime", msRelatime, 0},
	{"norelatime", 0, msRelatime},
	{"strictatime", msStrictatime, 0},
	{"nostrictatime", 0, msStrictatime},
	{"lazytime", msLazytime, 0},
	{"nolazytime", 0, msLazytime},
	{"silent", msSilent, 0},
	{"loud", 0, msSilent},
	{"rbind", msBind | msRec, 0},
	{"bind", msBind, 0},
	{"move", msMove, 0},
	{"rprivate", msPrivate | msRec, 0},
	{"private", msPrivate, 0},
	{"rshared", msShared | msRec, 0},
	{"shared", msShared, 0},
	{"rslave", msSlave | msRec, 0},
	{"slave", msSlave, 0},
	{"runbindable", msUnbindable | msRec, 0},
	{"unbindable", msUnbindable, 0},
}

var optionByName = func() map[string]option {
	m := make(map[string]option, len(options))
	for _, o := range options {
		m[o.name] = o
	}
	return m
}()

// ParseOptions splits a mount(8)-style option string such as
// "ro,nosuid,rbind,rslave,size=64k" into mount(2) flags and the
// filesystem-specific data string. Known names become flags, applied left
// to right (so "ro,rw" is read-write); everything else, in order, becomes
// data. Empty items are ignored.
//
// One flag word has a single MS_REC bit, while mount(8) applies recursion
// separately to the bind and to the propagation change. ParseOptions
// therefore refuses combinations whose meaning would change ("bind,rslave"
// or "rbind,slave"), and more than one propagation type, which mount(2)
// rejects anyway.
func ParseOptions(opts string) (flags uintptr, data string, err error) {
	var dataItems []string
	var bindSeen, bindRec, propSeen, propRec bool
	var propName string
	for _, item := range strings.Split(opts, ",") {
		if item == "" {
			continue
		}
		o, ok := optionByName[item]
		if !ok {
			dataItems = append(dataItems, item)
			continue
		}
		rec := o.set&msRec != 0
		switch {
		case o.set&msBind != 0:
			bindSeen, bindRec = true, rec
		case o.set&propagationFlags != 0:
			if propSeen && propName != item {
				return 0, "", fmt.Errorf("mount options %q: conflicting propagation %s and %s", opts, propName, item)
			}
			propSeen, propRec, propName = true, rec, item
		}
		flags = flags&^o.clear | o.set
	}
	if bindSeen && propSeen && bindRec != propRec {
		return 0, "", fmt.Errorf("mount options %q: recursion of bind and %s differ; use rbind with r%s or bind with %s",
			opts, propName, strings.TrimPrefix(propName, "r"), strings.TrimPrefix(propName, "r"))
	}
	return flags, strings.Join(dataItems, ","), nil
}

// FormatOptions is the inverse of ParseOptions: it names the set flags in
// the table's canonical order and appends data. For any flags built from
// the table, ParseOptions(FormatOptions(f, d)) returns f and d again. Bits
// without a name are printed in hex so nothing is hidden.
func FormatOptions(flags uintptr, data string) string {
	var items []string
	rec := flags&msRec != 0
	rest := flags &^ msRec
	recUsed := false
	for _, o := range options {
		base := o.set &^ msRec
		if base == 0 || rest&base != base {
			continue
		}
		if o.set&msRec != 0 && !rec {
			continue
		}
		// Composites precede their plain names in the table, so once
		// "rbind" has taken MS_BIND the plain "bind" no longer matches.
		// MS_REC itself stays available: "rbind,rslave" share it.
		items = append(items, o.name)
		rest &^= base
		recUsed = recUsed || o.set&msRec != 0
	}
	if rec && !recUsed {
		rest |= msRec
	}
	if rest != 0 {
		items = append(items, fmt.Sprintf("%#x", rest))
	}
	if data != "" {
		items = append(items, data)
	}
	return strings.Join(items, ",")
}
