package config

// applyDefaults is the one place defaults are filled in, into a Config that
// has passed validation. Each default is also stated on its field.
//
//	hostname          = name
//	init.grace        = DefaultGrace (5s)
//	workload.cwd      = "/"
//	workload.main     = true, when there is exactly one workload
//	userns.size       = DefaultUserNSSize (65536), when enabled
//
// userns.base stays 0 when not set: the base is picked from the name by
// minispawn, which owns the policy for choosing ranges.
func applyDefaults(c *Config) {
	if c.Hostname == "" {
		c.Hostname = c.Name
	}
	if c.Init.Grace.Duration == 0 {
		c.Init.Grace.Duration = DefaultGrace
	}
	if c.UserNS.Enabled && c.UserNS.Size == 0 {
		c.UserNS.Size = DefaultUserNSSize
	}
	for i := range c.Workloads {
		if c.Workloads[i].Cwd == "" {
			c.Workloads[i].Cwd = "/"
		}
	}
	// With one workload there is nothing to choose between: it is main.
	// With several, validation has made sure exactly one says so.
	if len(c.Workloads) == 1 {
		c.Workloads[0].Main = true
	}
}

// MainWorkload returns the workload whose exit ends the container, or nil
// when there is none (only in a Config that Parse did not return).
func (c *Config) MainWorkload() *Workload {
	for i := range c.Workloads {
		if c.Workloads[i].Main {
			return &c.Workloads[i]
		}
	}
	if len(c.Workloads) == 1 {
		return &c.Workloads[0]
	}
	return nil
}
