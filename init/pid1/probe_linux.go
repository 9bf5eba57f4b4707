package pid1

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TCP and HTTP probes, for readiness and health checks. Each runs on a
// goroutine of its own and reports through a channel; the loop never
// waits for one. They use raw sockets through Go's poller rather than
// package net: the hosts are IP addresses or localhost (config checks
// that), so there is nothing to resolve, and miniinit stays without net's
// resolver and its memory.
//
// Exec probes are processes, so the loop starts and reaps them itself
// (probeexec.go).

// probeTCP reports whether a TCP connection to hostport opens before
// deadline, and a word on the outcome.
func probeTCP(hostport string, deadline time.Time) (bool, string) {
	f, err := dialTCP(hostport, deadline)
	if err != nil {
		return false, probeError(err)
	}
	f.Close()
	return true, "connected"
}

// probeHTTP sends GET to url (http://host[:port][/path]) and reports
// whether the answer's status is 2xx or 3xx before deadline.
func probeHTTP(url string, deadline time.Time) (bool, string) {
	hostport, path := splitURL(url)
	f, err := dialTCP(hostport, deadline)
	if err != nil {
		return false, probeError(err)
	}
	defer f.Close()
	req := "GET " + path + " HTTP/1.0\r\nHost: " + hostport + "\r\nUser-Agent: miniinit\r\nConnection: close\r\n\r\n"
	if err := sendAll(f, []byte(req)); err != nil {
		return false, probeError(err)
	}
	// Only the status line matters: "HTTP/1.1 204 No Content".
	buf := make([]byte, 0, 256)
	for !bytes.Contains(buf, []byte("\r\n")) && len(buf) < cap(buf) {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if n == 0 && len(buf) == 0 {
				return false, probeError(err)
			}
			break
		}
	}
	line, _, _ := bytes.Cut(buf, []byte("\r\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
		return false, "not an HTTP answer"
	}
	code, err := strconv.Atoi(fields[1])
	if err != nil {
		return false, "not an HTTP answer"
	}
	return code >= 200 && code < 400, "HTTP " + fields[1]
}

// splitURL splits "http://host:port/path?q" into "host:port" (port 80 by
// default) and "/path?q".
func splitURL(url string) (hostport, path string) {
	rest := strings.TrimPrefix(url, "http://")
	hostport, path, _ = strings.Cut(rest, "/")
	path = "/" + path
	if !strings.HasSuffix(hostport, "]") && strings.LastIndexByte(hostport, ':') > strings.LastIndexByte(hostport, ']') {
		return hostport, path
	}
	return hostport + ":80", path
}

// dialTCP connects to hostport ("127.0.0.1:80", "[::1]:80",
// "localhost:80") before deadline, returning the connected socket as a
// file on Go's poller with deadline set.
func dialTCP(hostport string, deadline time.Time) (*os.File, error) {
	ap, err := parseAddrPort(hostport)
	if err != nil {
		return nil, err
	}
	var family int
	var sa unix.Sockaddr
	if a := ap.Addr(); a.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	err = unix.Connect(fd, sa)
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), hostport)
	if err := f.SetDeadline(deadline); err != nil {
		f.Close()
		return nil, err
	}
	if err == nil {
		return f, nil // connected at once (loopback often is)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	var soErr error
	werr := rc.Write(func(fd uintptr) bool {
		// Connected when the peer has a name; failed when SO_ERROR
		// says so; otherwise still connecting: wait for writability.
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); err != nil || v != 0 {
			soErr = err
			if v != 0 {
				soErr = unix.Errno(v)
			}
			return true
		}
		_, err := unix.Getpeername(int(fd))
		return !errors.Is(err, unix.ENOTCONN)
	})
	if werr == nil {
		werr = soErr
	}
	if werr != nil {
		f.Close()
		return nil, werr
	}
	return f, nil
}

func parseAddrPort(hostport string) (netip.AddrPort, error) {
	if rest, ok := strings.CutPrefix(hostport, "localhost:"); ok {
		hostport = "127.0.0.1:" + rest
	}
	return netip.ParseAddrPort(hostport)
}

// probeError says in a few words why a probe failed: the errno's name
// ("ECONNREFUSED"), or "timed out".
func probeError(err error) string {
	var errno unix.Errno
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}
