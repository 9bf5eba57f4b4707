package config

import "reflect"

// RestartOnly lists what an edited configuration changes that a reload
// does not apply to the running container, by its keys in the file
// ("name", "limits", "init.stop_budget"...), in the file's order of
// tables. A reload (miniinit ctl reload, systemctl reload) applies the
// workloads and init.signals (and init.log_overflow, which is part of
// each workload's definition); everything else is set up when the
// container starts, and waits for its next start.
func RestartOnly(running, edited *Config) []string {
	var out []string
	add := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, key)
		}
	}
	a, b := running, edited
	add("name", a.Name, b.Name)
	add("hostname", a.Hostname, b.Hostname)
	add("rootfs", a.Rootfs, b.Rootfs)
	add("limits", a.Limits, b.Limits)
	add("security", a.Security, b.Security)
	add("init.grace", a.Init.Grace, b.Init.Grace)
	add("init.report", a.Init.Report, b.Init.Report)
	add("init.stop_budget", a.Init.StopBudget, b.Init.StopBudget)
	add("init.control", a.Init.Control, b.Init.Control)
	add("userns", a.UserNS, b.UserNS)
	add("mount", a.Mounts, b.Mounts)
	add("systemd", a.Systemd, b.Systemd)
	return out
}
