package pid1

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// serve answers every connection on a loopback listener with answer
// (nothing, when it is "") and returns the listener's address.
func serve(t *testing.T, network, addr, answer string) string {
	t.Helper()
	l, err := net.Listen(network, addr)
	roottest.Need(t, err == nil, fmt.Sprintf("a %s listener on %s (%v)", network, addr, err))
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if answer == "" {
					time.Sleep(3 * time.Second)
					return
				}
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				c.Write([]byte(answer))
			}()
		}
	}()
	return l.Addr().String()
}

func TestProbeTCP(t *testing.T) {
	addr := serve(t, "tcp4", "127.0.0.1:0", "x")
	if ok, detail := probeTCP(addr, time.Now().Add(2*time.Second)); !ok {
		t.Errorf("open port: %s", detail)
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	if ok, detail := probeTCP("localhost:"+port, time.Now().Add(2*time.Second)); !ok {
		t.Errorf("localhost: %s", detail)
	}
	// A port nobody listens on: refused at once.
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	start := time.Now()
	if ok, detail := probeTCP(closed, time.Now().Add(2*time.Second)); ok || detail != "ECONNREFUSED" {
		t.Errorf("closed port: %v %s", ok, detail)
	}
	if time.Since(start) > time.Second {
		t.Errorf("refusal took %v", time.Since(start))
	}
	// A blackhole address (TEST-NET-1): the deadline ends it, unless
	// the network refuses it first.
	start = time.Now()
	if ok, detail := probeTCP("192.0.2.1:9", time.Now().Add(300*time.Millisecond)); ok {
		t.Errorf("blackhole: connected (%s)", detail)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("deadline not kept: %v", d)
	}
	if v6 := serve(t, "tcp6", "[::1]:0", "x"); v6 != "" {
		if ok, detail := probeTCP(v6, time.Now().Add(2*time.Second)); !ok {
			t.Errorf("ipv6: %s", detail)
		}
	}
}

func TestProbeHTTP(t *testing.T) {
	tests := []struct {
		answer string
		ok     bool
		detail string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, "HTTP 200"},
		{"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", true, "HTTP 302"},
		{"HTTP/1.1 503 Service Unavailable\r\n\r\n", false, "HTTP 503"},
		{"SSH-2.0-OpenSSH\r\n", false, "not an HTTP answer"},
		{"", false, "timed out"},
	}
	for _, tt := range tests {
		addr := serve(t, "tcp4", "127.0.0.1:0", tt.answer)
		ok, detail := probeHTTP("http://"+addr+"/healthz?x=1", time.Now().Add(500*time.Millisecond))
		if ok != tt.ok || detail != tt.detail {
			t.Errorf("answer %q: %v %q, want %v %q", tt.answer, ok, detail, tt.ok, tt.detail)
		}
	}
}

func TestSplitURL(t *testing.T) {
	for url, want := range map[string][2]string{
		"http://127.0.0.1:8080/healthz": {"127.0.0.1:8080", "/healthz"},
		"http://localhost":              {"localhost:80", "/"},
		"http://[::1]/a?b":              {"[::1]:80", "/a?b"},
		"http://[::1]:81":               {"[::1]:81", "/"},
	} {
		h, p := splitURL(url)
		if h != want[0] || p != want[1] {
			t.Errorf("%s: %s %s", url, h, p)
		}
	}
}
