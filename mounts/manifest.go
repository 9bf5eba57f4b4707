package mounts

import (
	"encoding/json"
	"fmt"
	"slices"
)

// manifestVersion changes whenever BuildRoot's output for the same
// sources would change, so that older caches are rebuilt.
const manifestVersion = 1

// Manifest records what a BuildRoot result was made from: the binaries
// asked for and every host file and symlink copied or reproduced, with
// the metadata that tells whether it changed since. Directories are not
// recorded: their mtimes move whenever a package touches them.
type Manifest struct {
	Version  int      `json:"version"`
	Binaries []string `json:"binaries"`
	Sources  []Source `json:"sources"` // sorted by Path
	// Root is, in a cache (BuildCached), the directory beside the
	// manifest that holds the root built from it.
	Root string `json:"root,omitempty"`
	// Owned is, in a cache, every root BuildCached made there and has
	// not removed yet (Root among them), each with the token written at
	// its making into the marker file beside it (<root>.owner). Only a
	// root listed here whose marker holds the same token is ever
	// removed. Caches made before markers have none: their roots are
	// read but never removed.
	Owned map[string]string `json:"owned,omitempty"`
}

// Source is one host file or symlink (Link set) that went into a root.
type Source struct {
	Path    string `json:"path"`
	Link    string `json:"link,omitempty"`
	Mode    uint32 `json:"mode"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	Dev     uint64 `json:"dev"`
	Inode   uint64 `json:"inode"`
}

// Equal reports whether two manifests describe the same build: the same
// binaries in the same order and identical sources.
func (m *Manifest) Equal(o *Manifest) bool {
	if m == nil || o == nil {
		return m == o
	}
	return m.Version == o.Version && slices.Equal(m.Binaries, o.Binaries) && slices.Equal(m.Sources, o.Sources)
}

func (m *Manifest) add(s Source) {
	i, found := slices.BinarySearchFunc(m.Sources, s.Path, func(a Source, p string) int {
		switch {
		case a.Path < p:
			return -1
		case a.Path > p:
			return 1
		}
		return 0
	})
	if found {
		m.Sources[i] = s
		return
	}
	m.Sources = slices.Insert(m.Sources, i, s)
}

// MarshalManifest and UnmarshalManifest are the on-disk form BuildCached
// keeps beside a cached root.
func MarshalManifest(m *Manifest) ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

func UnmarshalManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}
