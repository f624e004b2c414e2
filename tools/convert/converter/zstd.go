package converter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// ctxReader fails reads once ctx is done, so a long compression can be
// interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// CompressFile writes a zstd-compressed copy of src to dst, streaming,
// through a temporary file in dst's folder that is renamed when complete.
// threads bounds the encoder's concurrency (0 = all CPUs).
func CompressFile(ctx context.Context, src, dst string, threads int) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	defer in.Close()
	removeStaleTemps(dst)
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(tempPrefix(dst))+fmt.Sprint(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	opts := []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedBetterCompression)}
	if threads > 0 {
		opts = append(opts, zstd.WithEncoderConcurrency(threads))
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	enc, err := zstd.NewWriter(bw, opts...)
	if err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	if _, err := io.Copy(enc, ctxReader{ctx, bufio.NewReaderSize(in, 1<<20)}); err != nil {
		enc.Close()
		return fmt.Errorf("convert: zstd: compressing %s: %w", src, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("convert: zstd: %w", err)
	}
	return nil
}
