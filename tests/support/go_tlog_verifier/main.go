// A tiny verifier of the ledger's C2SP tlog-tiles log, built on Go's
// golang.org/x/mod/sumdb/tlog and sumdb/note (Debian: golang-golang-x-mod-dev),
// so the tiles, checkpoints and proofs the ledger serves are checked by code that
// is not ours. tests/e2e/test_tlog_go_interop.py builds and runs it.
//
//	tlogverify BASE_URL LOG_VKEY OLD_SIZE OLD_ROOT_B64 INDEX:LEAF_HASH_HEX...
//
// It fetches BASE_URL/checkpoint, verifies the log's signature with LOG_VKEY, reads
// the tiles it needs from BASE_URL/tile/<L>/<N>[.p/<W>] (checking each against the
// checkpoint's root), proves and checks every given leaf's inclusion, and the
// consistency of the tree of OLD_SIZE leaves and root OLD_ROOT with the checkpoint.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type tiles struct{ base string }

func (t tiles) Height() int { return height }

func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		// Go names tiles tile/<H>/<L>/<N>; C2SP tlog-tiles drops the fixed height.
		path := strings.TrimPrefix(tile.Path(), fmt.Sprintf("tile/%d/", height))
		data, err := get(t.base + "/tile/" + path)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAILED: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: tlogverify BASE_URL LOG_VKEY OLD_SIZE OLD_ROOT_B64 INDEX:LEAF_HASH_HEX...")
	}
	base, vkey := strings.TrimRight(os.Args[1], "/"), os.Args[2]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("log key: %v", err)
	}
	raw, err := get(base + "/checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root: %v", err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	reader := tlog.TileHashReader(tree, tiles{base})
	checked := 0
	for _, arg := range os.Args[5:] {
		parts := strings.SplitN(arg, ":", 2)
		index, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			fail("index %q: %v", parts[0], err)
		}
		raw, err := hex.DecodeString(parts[1])
		if err != nil || len(raw) != tlog.HashSize {
			fail("leaf hash %q", parts[1])
		}
		var leaf tlog.Hash
		copy(leaf[:], raw)
		proof, err := tlog.ProveRecord(size, index, reader)
		if err != nil {
			fail("inclusion proof of leaf %d: %v", index, err)
		}
		if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
			fail("leaf %d: %v", index, err)
		}
		checked++
	}
	oldSize, err := strconv.ParseInt(os.Args[3], 10, 64)
	if err != nil {
		fail("old size: %v", err)
	}
	if oldSize > 0 {
		oldRaw, err := base64.StdEncoding.DecodeString(os.Args[4])
		if err != nil || len(oldRaw) != tlog.HashSize {
			fail("old root %q", os.Args[4])
		}
		var oldRoot tlog.Hash
		copy(oldRoot[:], oldRaw)
		proof, err := tlog.ProveTree(size, oldSize, reader)
		if err != nil {
			fail("consistency proof %d -> %d: %v", oldSize, size, err)
		}
		if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
			fail("consistency %d -> %d: %v", oldSize, size, err)
		}
	}
	fmt.Printf("OK: checkpoint %s tree size %d; %d inclusion proofs; consistency from %d\n",
		lines[0], size, checked, oldSize)
}
