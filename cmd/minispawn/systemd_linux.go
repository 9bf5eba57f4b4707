package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
)

// systemdTimeout bounds every exchange with systemd: a manager that does
// not answer must not hang the container's start.
const systemdTimeout = 30 * time.Second

// serviceCgroup returns the layout in which to make the container's
// cgroup (see systemd.go for the three cases), after doing what the case
// needs: under systemd, minispawn's own process ends up in
// UNIT/supervisor on cgroup v2 (in a transient scope first, when started
// by hand). Without systemd, or with cgroup = "cgroupfs", it returns
// layout as it is.
//
// The order matters: the scope must exist before minispawn moves into
// its subtree, and minispawn must have left UNIT before package cgroup
// enables controllers for UNIT's children (cgroup v2 refuses that while a
// process sits in UNIT).
func serviceCgroup(layout *cgroup.Layout, plan *Plan, log *slog.Logger) (*cgroup.Layout, error) {
	driver, err := cgroupDriver(plan.Service.Cgroup, os.Getenv(cgroupDriverEnv))
	if err != nil {
		return nil, err
	}
	if driver == config.CgroupCgroupfs {
		return layout, nil
	}
	if !systemdBooted() {
		if driver == config.CgroupSystemd {
			return nil, errors.New(`cgroup = "systemd", but systemd is not running here (no /run/systemd/system)`)
		}
		return layout, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), systemdTimeout)
	defer cancel()
	conn, err := systemdConn(ctx)
	if err != nil {
		if driver == config.CgroupSystemd {
			return nil, err
		}
		// Making cgroups behind a running systemd's back is what
		// CGROUP_DELEGATION warns against, so say it loudly.
		log.Warn("systemd runs, but does not answer: the cgroup goes to the cgroup filesystem directly", "err", err)
		return layout, nil
	}
	defer conn.Close()

	// 1. Under a unit that delegates to us, or in a scope of our own.
	self := os.Getpid()
	unit, err := conn.GetUnitNameByPID(ctx, uint32(self))
	if err != nil {
		return nil, fmt.Errorf("ask systemd for the unit of pid %d: %w", self, err)
	}
	delegated, err := delegates(ctx, conn, unit)
	if err != nil {
		return nil, err
	}
	if !delegated {
		if unit, err = startScope(ctx, conn, plan); err != nil {
			return nil, err
		}
	}
	// 2. The unit's cgroup, as systemd names it (never computed from
	// the unit's name: CGROUP_DELEGATION).
	p, err := conn.GetUnitTypePropertyContext(ctx, unit, unitType(unit), "ControlGroup")
	if err != nil {
		return nil, fmt.Errorf("ask systemd for the cgroup of %s: %w", unit, err)
	}
	unitPath, ok := p.Value.Value().(string)
	if !ok || unitPath == "" {
		return nil, fmt.Errorf("systemd gave %s no cgroup (ControlGroup=%v)", unit, p.Value)
	}
	// 3. minispawn leaves the unit's own cgroup for a leaf (v2).
	if layout.Version == cgroup.V2 {
		if err := enterSupervisor(layout, unitPath, self); err != nil {
			return nil, err
		}
	}
	// 4. The container's cgroup goes below the unit's.
	sub, atRoot, err := delegatedLayout(layout, unitPath, readControllers, dirExists)
	if err != nil {
		return nil, err
	}
	if len(atRoot) > 0 {
		// A hybrid host whose systemd manages no v1 controller: there
		// is no unit directory to go below in those hierarchies.
		log.Warn("systemd keeps no cgroup v1 directory for the unit in these hierarchies; the container's goes to minispawn/ at their root",
			"unit", unit, "controllers", strings.Join(atRoot, ","))
	}
	log.Debug("cgroup below the unit's", "unit", unit, "cgroup", unitPath, "delegated", delegated)
	return sub, nil
}

// systemdBooted is sd_booted(3): systemd is PID 1 of this system.
func systemdBooted() bool {
	st, err := os.Lstat("/run/systemd/system")
	return err == nil && st.IsDir()
}

// systemdConn talks to systemd on its private socket (root only; works
// without a bus daemon, early in boot too), else on the system bus.
func systemdConn(ctx context.Context) (*sdbus.Conn, error) {
	conn, err := sdbus.NewSystemdConnectionContext(ctx)
	if err == nil {
		return conn, nil
	}
	conn, err2 := sdbus.NewSystemConnectionContext(ctx)
	if err2 == nil {
		return conn, nil
	}
	return nil, fmt.Errorf("connect to systemd: /run/systemd/private: %w; system bus: %w", err, err2)
}

// delegates reports whether unit is a service with Delegate= on, which
// makes its cgroup subtree minispawn's.
func delegates(ctx context.Context, conn *sdbus.Conn, unit string) (bool, error) {
	if !strings.HasSuffix(unit, ".service") && !strings.HasSuffix(unit, ".scope") {
		return false, nil
	}
	p, err := conn.GetUnitTypePropertyContext(ctx, unit, unitType(unit), "Delegate")
	if err != nil {
		return false, fmt.Errorf("ask systemd whether %s delegates: %w", unit, err)
	}
	on, _ := p.Value.Value().(bool)
	return on, nil
}

// startScope asks systemd for a transient scope holding minispawn, with
// delegation, in the configured slice, and waits until it exists. The
// scope goes away on its own once minispawn and the container have ended
// (a scope lives as long as it holds processes).
func startScope(ctx context.Context, conn *sdbus.Conn, plan *Plan) (string, error) {
	name := scopeName(plan.Name)
	props := []sdbus.Property{
		sdbus.PropDescription("minispawn container " + plan.Name),
		sdbus.PropSlice(plan.Service.Slice),
		sdbus.PropPids(uint32(os.Getpid())),
		{Name: "Delegate", Value: godbus.MakeVariant(true)},
		// A failed scope would otherwise stay loaded, and block the next
		// start of the same container.
		{Name: "CollectMode", Value: godbus.MakeVariant("inactive-or-failed")},
	}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, name, "fail", props, done); err != nil {
		return "", fmt.Errorf("ask systemd for the transient scope %s in %s: %w", name, plan.Service.Slice, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return "", fmt.Errorf("systemd could not start the scope %s: job %s", name, res)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("systemd did not start the scope %s in %v", name, systemdTimeout)
	}
	return name, nil
}

// enterSupervisor moves minispawn (every thread) into unit/supervisor of
// the v2 hierarchy.
func enterSupervisor(layout *cgroup.Layout, unitPath string, pid int) error {
	var root string
	for _, m := range layout.Mounts {
		root = m
	}
	dir := filepath.Join(root, unitPath, supervisorGroup)
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mkdir %s: %w", dir, errnoErr(err))
	}
	procs := filepath.Join(dir, "cgroup.procs")
	if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("move minispawn into %s: %w", dir, errnoErr(unwrapPath(err)))
	}
	return nil
}

func readControllers(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("read the controllers of %s: %w", dir, errnoErr(unwrapPath(err)))
	}
	return strings.Fields(string(b)), nil
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// unwrapPath returns the errno inside a *PathError, so that errnoErr can
// name it.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
