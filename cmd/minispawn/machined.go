package main

import "strings"

// machineName is the container's name as systemd-machined accepts it: a
// valid hostname, so the '_' a container name may hold becomes '-'.
func machineName(container string) string {
	return strings.ReplaceAll(container, "_", "-")
}
