package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/coreos/go-systemd/v22/machine1"
	godbus "github.com/godbus/dbus/v5"
)

// registerMachine registers the running container with systemd-machined
// ([systemd] register = true), so that `machinectl list` and `machinectl
// status` show it, its leader being the container's PID 1 (host pid
// leader). RegisterMachine, not CreateMachine: the container already has
// its cgroup (below the unit's or a scope's), and machined takes the unit
// of the leader as the machine's. The returned function unregisters it;
// machined also drops it by itself once the leader is gone.
//
// Registration is an extra: a failure is logged and the container runs.
func registerMachine(plan *Plan, leader int, log *slog.Logger) (unregister func()) {
	nothing := func() {}
	if !plan.Service.Register {
		return nothing
	}
	name := machineName(plan.Name)
	conn, err := machine1.New()
	if err != nil {
		log.Warn("register with systemd-machined: no system bus", "err", err)
		return nothing
	}
	defer conn.Close()
	root := plan.Root.Dir
	if root == "" {
		root = stagingDir
	}
	if err := conn.RegisterMachine(name, nil, "minispawn", "container", leader, root); err != nil {
		log.Warn("register with systemd-machined", "machine", name, "err", err)
		return nothing
	}
	log.Debug("registered with systemd-machined", "machine", name, "leader", leader)
	return func() {
		if err := unregisterMachine(name); err != nil {
			log.Debug("unregister from systemd-machined", "machine", name, "err", err)
		}
	}
}

// unregisterMachine calls machined's UnregisterMachine, which go-systemd
// does not wrap (its TerminateMachine would kill the container's
// processes; unregistering only forgets the machine).
func unregisterMachine(name string) error {
	conn, err := godbus.SystemBusPrivate()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		return err
	}
	if err := conn.Hello(); err != nil {
		return err
	}
	obj := conn.Object("org.freedesktop.machine1", "/org/freedesktop/machine1")
	if call := obj.Call("org.freedesktop.machine1.Manager.UnregisterMachine", 0, name); call.Err != nil {
		return fmt.Errorf("UnregisterMachine %s: %w", name, call.Err)
	}
	return nil
}
