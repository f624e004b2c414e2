package shapes

import (
	"fmt"
	"image"
	"image/png"

	"github.com/cogedge/cogedge/internal/outfile"
)

// WriteFile writes data to path the way every cogedge output is written
// (package outfile): through a temporary file renamed when complete; a
// folder is refused, a device written in place, never replaced.
func WriteFile(path string, data []byte) error {
	f, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	return nil
}

// WritePNG encodes img as PNG to path (see WriteFile).
func WritePNG(path string, img image.Image) error {
	f, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	defer f.Abort()
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		return fmt.Errorf("shapes: encoding %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("shapes: %w", err)
	}
	return nil
}
