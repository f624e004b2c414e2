package shapes

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// WriteFile writes data to path through a temporary file in the same folder
// that is renamed when complete. An existing path that is not a regular file
// (a device, a symlink, a folder) is refused, never replaced.
func WriteFile(path string, data []byte) error {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("shapes: %s exists and is not a regular file; not replacing it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("shapes: writing %s: %w", path, err)
	}
	return nil
}

// WritePNG encodes img as PNG to path (see WriteFile).
func WritePNG(path string, img image.Image) error {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return fmt.Errorf("shapes: encoding %s: %w", path, err)
	}
	return WriteFile(path, b.Bytes())
}
