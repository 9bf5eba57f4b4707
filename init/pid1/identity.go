package pid1

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A workload's user and groups are names or numbers, resolved at each
// start in the container's own /etc/passwd and /etc/group (miniinit runs
// inside the container's root), as docker resolves --user.

// passwdEntry is the part of an /etc/passwd line miniinit uses.
type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

// identity is what a workload runs as.
type identity struct {
	uid, gid *uint32
	groups   []uint32
	home     string // HOME for the workload, from passwd; "" to leave it
}

// resolveIdentity turns user, group and groups into ids. A user name must
// exist in passwd; a number need not (then the group stays miniinit's,
// unless group says otherwise). Without groups, a user given by name gets
// the groups /etc/group lists it in.
func resolveIdentity(passwd, group string, user, grp string, groups []string) (identity, error) {
	var id identity
	var userName string
	if user != "" {
		if n, err := strconv.ParseUint(user, 10, 32); err == nil {
			u := uint32(n)
			id.uid = &u
			if e, ok := lookupPasswd(passwd, func(e passwdEntry) bool { return e.uid == u }); ok {
				id.gid, id.home, userName = &e.gid, e.home, e.name
			}
		} else {
			e, ok := lookupPasswd(passwd, func(e passwdEntry) bool { return e.name == user })
			if !ok {
				return id, fmt.Errorf("user %q: not in %s", user, passwd)
			}
			id.uid, id.gid, id.home, userName = &e.uid, &e.gid, e.home, e.name
		}
	}
	if grp != "" {
		g, err := lookupGroup(group, grp)
		if err != nil {
			return id, err
		}
		id.gid = &g
	}
	switch {
	case groups != nil:
		for _, name := range groups {
			g, err := lookupGroup(group, name)
			if err != nil {
				return id, err
			}
			id.groups = append(id.groups, g)
		}
	case userName != "":
		id.groups = memberOf(group, userName)
	}
	return id, nil
}

func lookupPasswd(file string, match func(passwdEntry) bool) (passwdEntry, bool) {
	var found passwdEntry
	ok := false
	scanColon(file, func(f []string) bool {
		if len(f) < 6 {
			return true
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return true
		}
		e := passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]}
		if match(e) {
			found, ok = e, true
			return false
		}
		return true
	})
	return found, ok
}

// lookupGroup reads a group name or number.
func lookupGroup(file, name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	var gid uint32
	ok := false
	scanColon(file, func(f []string) bool {
		if len(f) >= 3 && f[0] == name {
			if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
				gid, ok = uint32(n), true
				return false
			}
		}
		return true
	})
	if !ok {
		return 0, fmt.Errorf("group %q: not in %s", name, file)
	}
	return gid, nil
}

// memberOf lists the groups /etc/group names user in.
func memberOf(file, user string) []uint32 {
	var out []uint32
	scanColon(file, func(f []string) bool {
		if len(f) >= 4 {
			for _, m := range strings.Split(f[3], ",") {
				if m == user {
					if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
						out = append(out, uint32(n))
					}
				}
			}
		}
		return true
	})
	return out
}

// scanColon calls each with the fields of each line of a colon-separated
// file, until each returns false. A missing file has no lines.
func scanColon(file string, each func([]string) bool) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if !each(strings.Split(line, ":")) {
			return
		}
	}
}
