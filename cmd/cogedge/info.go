package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cogedge/cogedge/gguf"
	"github.com/cogedge/cogedge/quant"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:  "info",
		short: "describe a GGUF file: version, metadata, tensors, parameter count",
		run:   infoCmd,
	})
}

// infoCmd implements `cogedge info [--json] [--hash] FILE.gguf`.
//
// Text output lists the version, alignment, data offset, every metadata key
// with its type and value (arrays longer than 8 elements are shown as
// `[first 8, … ] (N items)`, strings longer than 200 bytes are cut), every
// tensor with name, type (ggml spelling), shape (ggml order: ne0 first),
// offset, byte count and with --hash the sha256 of its bytes, a per-type
// summary and the parameter count ("params: 17.64 B").
//
// With --json it writes one JSON object, complete (nothing elided):
//
//	{
//	  "version": 3,
//	  "alignment": 32,
//	  "metadata": {"general.architecture": "cogvlm", "tokenizer.ggml.tokens": ["<unk>", …], …},
//	  "tensors": [
//	    {"name": "token_embd.weight", "type": "Q8_0", "shape": [4096, 32000],
//	     "offset": 0, "nbytes": 139264000, "sha256": "…"},
//	    …
//	  ]
//	}
//
// metadata keeps the file's key order; values are JSON numbers, strings,
// booleans or arrays of them (NaN and infinities, which JSON lacks, are the
// strings "NaN", "+Inf", "-Inf"; bytes that are not UTF-8 become U+FFFD).
// shape is in ggml order, offset is relative to the start of the data
// section, nbytes is the tensor's size; sha256 (lowercase hex of the
// tensor's bytes) is present only with --hash.
func infoCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("info", pflag.ContinueOnError)
	asJSON := fs.Bool("json", false, "write JSON (complete metadata; schema in README, \"cogedge info\")")
	hash := fs.Bool("hash", false, "add the sha256 of every tensor's bytes (reads the whole file)")
	if done, err := parseFlags(fs, "info [--json] [--hash] FILE.gguf", args, stdout); done || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errUsage{fmt.Errorf("want one GGUF file, got %d arguments", fs.NArg())}
	}
	path, err := mappable(fs.Arg(0))
	if err != nil {
		return err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	var sums []string
	if *hash {
		sums = make([]string, len(f.Tensors))
		for i := range f.Tensors {
			t := &f.Tensors[i]
			d, err := f.TensorData(t)
			if err != nil {
				return err
			}
			s := sha256.Sum256(d)
			sums[i] = hex.EncodeToString(s[:])
			f.Advise(t, gguf.AdviceDontNeed) // hashing a 30 GB file should not evict everything else
		}
	}
	bw := bufio.NewWriter(stdout)
	if *asJSON {
		writeInfoJSON(bw, f, sums)
	} else {
		writeInfoText(bw, fs.Arg(0), f, sums)
	}
	return bw.Flush()
}

// writeInfoJSON writes the schema documented on infoCmd.
func writeInfoJSON(w *bufio.Writer, f *gguf.File, sums []string) {
	b := make([]byte, 0, 1<<16)
	b = append(b, "{\n  \"version\": "...)
	b = strconv.AppendUint(b, uint64(f.Version), 10)
	b = append(b, ",\n  \"alignment\": "...)
	b = strconv.AppendUint(b, f.Alignment, 10)
	b = append(b, ",\n  \"metadata\": {"...)
	for i, kv := range f.KVs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = gguf.AppendJSONString(b, kv.Key)
		b = append(b, ": "...)
		b = kv.Value.AppendJSON(b)
		w.Write(b)
		b = b[:0]
	}
	if len(f.KVs) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "},\n  \"tensors\": ["...)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {\"name\": "...)
		b = gguf.AppendJSONString(b, t.Name)
		b = append(b, ", \"type\": "...)
		b = gguf.AppendJSONString(b, t.Type.String())
		b = append(b, ", \"shape\": ["...)
		for j, d := range t.Shape {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendUint(b, d, 10)
		}
		b = append(b, "], \"offset\": "...)
		b = strconv.AppendUint(b, t.Offset, 10)
		b = append(b, ", \"nbytes\": "...)
		b = strconv.AppendUint(b, t.Size, 10)
		if sums != nil {
			b = append(b, ", \"sha256\": \""...)
			b = append(b, sums[i]...)
			b = append(b, '"')
		}
		b = append(b, '}')
		w.Write(b)
		b = b[:0]
	}
	if len(f.Tensors) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	w.Write(b)
}

// writeInfoText writes the human-readable listing.
func writeInfoText(w io.Writer, name string, f *gguf.File, sums []string) {
	fmt.Fprintf(w, "file:       %s\n", name)
	fmt.Fprintf(w, "version:    %d\n", f.Version)
	fmt.Fprintf(w, "alignment:  %d\n", f.Alignment)
	fmt.Fprintf(w, "data:       from byte %d\n", f.DataOffset)
	fmt.Fprintf(w, "metadata:   %d keys\n", len(f.KVs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range f.KVs {
		typ := kv.Value.Type().String()
		if kv.Value.Type() == gguf.TypeArray {
			typ = "arr[" + kv.Value.ElemType().String() + "]"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", kv.Key, typ, kv.Value.Text(8, 200))
	}
	tw.Flush()

	fmt.Fprintf(w, "tensors:    %d\n", len(f.Tensors))
	if len(f.Tensors) > 0 {
		header := "  NAME\tTYPE\tSHAPE\tOFFSET\tNBYTES"
		if sums != nil {
			header += "\tSHA256"
		}
		fmt.Fprintln(tw, header)
		for i := range f.Tensors {
			t := &f.Tensors[i]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d", t.Name, t.Type, shapeText(t.Shape), t.Offset, t.Size)
			if sums != nil {
				fmt.Fprintf(tw, "\t%s", sums[i])
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}

	// Per-type summary, most bytes first.
	type agg struct {
		typ          quant.Type
		count        int
		bytes, elems uint64
	}
	byType := map[quant.Type]*agg{}
	var total uint64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		a := byType[t.Type]
		if a == nil {
			a = &agg{typ: t.Type}
			byType[t.Type] = a
		}
		a.count++
		a.bytes += t.Size
		a.elems += t.Elements()
		total += t.Size
	}
	aggs := make([]*agg, 0, len(byType))
	for _, a := range byType {
		aggs = append(aggs, a)
	}
	sort.Slice(aggs, func(i, j int) bool {
		if aggs[i].bytes != aggs[j].bytes {
			return aggs[i].bytes > aggs[j].bytes
		}
		return aggs[i].typ < aggs[j].typ
	})
	parts := make([]string, len(aggs))
	for i, a := range aggs {
		parts[i] = fmt.Sprintf("%v ×%d (%s)", a.typ, a.count, byteText(a.bytes))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "types:      %s\n", strings.Join(parts, ", "))
	}
	n := f.ParamCount()
	fmt.Fprintf(w, "params:     %s (%d)\n", countText(n), n)
	if n > 0 {
		fmt.Fprintf(w, "size:       %s of tensor data, %.2f bits per weight\n", byteText(total), float64(total)*8/float64(n))
	}
}

// shapeText formats a ggml-order shape as [ne0, ne1, …].
func shapeText(s []uint64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatUint(d, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// countText formats a parameter count with a decimal suffix: 17.64 B,
// 6.24 M, 2.78 K, or the plain number below 1000.
func countText(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.2f K", float64(n)/1e3)
	}
	return strconv.FormatUint(n, 10)
}

// byteText formats a byte count in binary units.
func byteText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		suffix = s
		if v < unit {
			break
		}
	}
	return fmt.Sprintf("%.2f %s", v, suffix)
}
