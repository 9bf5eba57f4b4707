package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSealedCopyIsExactAndSealed: the memfd holds the file's bytes (more
// than one sendfile chunk of the old 32 KiB loop, and an odd size), is
// positioned at 0, and refuses writes and growth.
func TestSealedCopyIsExactAndSealed(t *testing.T) {
	data := make([]byte, 300*1024+17)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	path := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := sealedCopy("test", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("memfd holds %d bytes that differ from the file's %d", len(got), len(data))
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if seals&want != want {
		t.Fatalf("seals %#x, want at least %#x", seals, want)
	}
	if _, err := unix.Pwrite(int(f.Fd()), []byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("write to the sealed copy: %v, want EPERM", err)
	}
}

// TestCopyFileFromPipe: a source sendfile cannot read from (a pipe) is
// copied all the same.
func TestCopyFileFromPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	data := bytes.Repeat([]byte("miniinit"), 20000)
	go func() {
		pw.Write(data)
		pw.Close()
	}()
	fd, err := unix.MemfdCreate("test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	dst := os.NewFile(uintptr(fd), "memfd")
	defer dst.Close()
	if err := copyFile(dst, pr); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("copied %d bytes, want %d equal ones", len(got), len(data))
	}
}

// TestSealedCopyLater: after wait the memfd holds the file's bytes and is
// sealed; wait gives the same answer twice; a missing file fails at once.
func TestSealedCopyLater(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB
	path := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, wait, err := sealedCopyLater("test", path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("second wait: %v", err)
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("memfd holds %d bytes that differ from the file's %d", len(got), len(data))
	}
	if _, err := unix.Pwrite(int(f.Fd()), []byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Fatalf("write to the sealed copy: %v, want EPERM", err)
	}
	if _, _, err := sealedCopyLater("test", filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing source: %v, want ErrNotExist", err)
	}
}
