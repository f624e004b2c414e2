package imageproc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// imagesDir holds the fixtures made by testdata/images/gen_golden.py.
const imagesDir = "../../testdata/images"

type goldenFile struct {
	Pillow string `json:"pillow"`
	Resize []struct {
		Input  string `json:"input"`
		W      int    `json:"w"`
		H      int    `json:"h"`
		SHA256 string `json:"sha256"`
		Crop   []int  `json:"crop"`
		Tiles  []int  `json:"tiles"`
		PNG    string `json:"png"`
	} `json:"resize"`
	Formats []struct {
		File   string `json:"file"`
		Mode   string `json:"mode"`
		W, H   int
		SHA256 string `json:"rgb_sha256"`
	} `json:"formats"`
	JPEG []struct {
		File string `json:"file"`
		W, H int
	} `json:"jpeg"`
	Orientation []struct {
		File        string `json:"file"`
		Orientation int    `json:"orientation"`
		W, H        int
	} `json:"orientation"`
}

func readGolden(t testing.TB) *goldenFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(imagesDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	return &g
}

// loadRGB decodes a fixture as stored (no orientation) and converts it.
func loadRGB(t testing.TB, name string) ([]uint8, int, int) {
	t.Helper()
	img, err := Load(filepath.Join(imagesDir, name), Limits{NoOrientation: true})
	if err != nil {
		t.Fatal(err)
	}
	return ToRGB(img)
}

func crop(rgb []uint8, w, x0, y0, x1, y1 int) []uint8 {
	out := make([]uint8, 0, 3*(x1-x0)*(y1-y0))
	for y := y0; y < y1; y++ {
		out = append(out, rgb[3*(y*w+x0):3*(y*w+x1)]...)
	}
	return out
}

// tile repeats an image nx times across and ny times down (Pillow paste).
func tile(rgb []uint8, w, h, nx, ny int) []uint8 {
	out := make([]uint8, 0, len(rgb)*nx*ny)
	for j := 0; j < ny; j++ {
		for y := 0; y < h; y++ {
			for i := 0; i < nx; i++ {
				out = append(out, rgb[3*w*y:3*w*(y+1)]...)
			}
		}
	}
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func maxDiff(a, b []uint8) (max int, mean float64, n int) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
		if d > 0 {
			n++
		}
		if d > max {
			max = d
		}
	}
	return max, float64(sum) / float64(len(a)), n
}

// TestResizeMatchesPillow compares ResizeBicubic with Pillow 9.4's
// Image.resize(BICUBIC) on real photographs given Pillow's own decoded RGB:
// every output must be byte-identical.
func TestResizeMatchesPillow(t *testing.T) {
	g := readGolden(t)
	if len(g.Resize) < 20 {
		t.Fatalf("golden.json has %d resize cases, expected the full set", len(g.Resize))
	}
	type input struct {
		rgb  []uint8
		w, h int
	}
	inputs := map[string]input{}
	photos := map[string]bool{}
	for _, c := range g.Resize {
		name := fmt.Sprintf("%s %dx%d", c.Input, c.W, c.H)
		if c.Crop != nil {
			name += fmt.Sprintf(" crop%v", c.Crop)
		}
		if c.Tiles != nil {
			name += fmt.Sprintf(" tiles%v", c.Tiles)
		}
		t.Run(name, func(t *testing.T) {
			in, ok := inputs[c.Input]
			if !ok {
				in.rgb, in.w, in.h = loadRGB(t, c.Input)
				inputs[c.Input] = in
			}
			src, w, h := in.rgb, in.w, in.h
			if c.Crop != nil {
				x0, y0, x1, y1 := c.Crop[0], c.Crop[1], c.Crop[2], c.Crop[3]
				src, w, h = crop(src, w, x0, y0, x1, y1), x1-x0, y1-y0
			}
			if c.Tiles != nil {
				src = tile(src, w, h, c.Tiles[0], c.Tiles[1])
				w, h = w*c.Tiles[0], h*c.Tiles[1]
			}
			got := ResizeBicubic(src, w, h, c.W, c.H)
			if len(got) != 3*c.W*c.H {
				t.Fatalf("len %d, want %d", len(got), 3*c.W*c.H)
			}
			if c.PNG != "" {
				want, ww, wh := loadRGB(t, c.PNG)
				if ww != c.W || wh != c.H {
					t.Fatalf("%s is %dx%d", c.PNG, ww, wh)
				}
				m, mean, n := maxDiff(got, want)
				t.Logf("%dx%d -> %dx%d: max |diff| %d, mean %.4f, %d bytes differ (vs %s)", w, h, c.W, c.H, m, mean, n, c.PNG)
				if m != 0 {
					t.Errorf("max |diff| %d vs Pillow, want 0", m)
				}
			}
			if s := sha(got); s != c.SHA256 {
				t.Errorf("%dx%d -> %dx%d: sha256 %s, Pillow's is %s", w, h, c.W, c.H, s, c.SHA256)
			}
			photos[c.Input] = true
		})
	}
	if len(photos) < 3 {
		t.Errorf("only %d photographs exercised", len(photos))
	}
}

// TestNormalizeMatchesNumpy compares Normalize with numpy's float32
// (x/255 - mean)/std on Pillow's 56×56 resize of chelsea.
func TestNormalizeMatchesNumpy(t *testing.T) {
	rgb, w, h := loadRGB(t, "resize_chelsea_56.png")
	raw, err := os.ReadFile(filepath.Join(imagesDir, "normalize_chelsea_56.f32"))
	if err != nil {
		t.Fatal(err)
	}
	got := Normalize(rgb, w, h, CLIPMean, CLIPStd)
	checkF32(t, got, raw, 1e-6)
}

func checkF32(t *testing.T, got []float32, raw []byte, tol float64) {
	t.Helper()
	if len(raw) != 4*len(got) {
		t.Fatalf("golden has %d floats, got %d", len(raw)/4, len(got))
	}
	worst, exact := 0.0, 0
	for i, v := range got {
		want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		d := math.Abs(float64(v) - float64(want))
		if d > worst {
			worst = d
		}
		if v == want {
			exact++
		}
	}
	t.Logf("max |diff| %g, %d of %d values bit-identical", worst, exact, len(got))
	if worst > tol {
		t.Errorf("max |diff| %g > %g", worst, tol)
	}
}

// TestPreprocessMatchesModelGolden runs the whole pipeline (Load, ToRGB,
// resize, normalise) on the image of the cogvlm-tiny reference dumps and
// compares with the resized_rgb and pixel_values the PyTorch reference
// wrote (testdata/cogvlm-tiny, 56×56).
func TestPreprocessMatchesModelGolden(t *testing.T) {
	dir := "../../testdata/cogvlm-tiny/golden/tiny-image-chat"
	wantRGB, err := os.ReadFile(filepath.Join(dir, "resized_rgb.u8.bin"))
	if err != nil {
		t.Fatal(err)
	}
	wantPix, err := os.ReadFile(filepath.Join(dir, "pixel_values.f32.bin"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Load(filepath.Join(imagesDir, "chelsea.png"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pix, rgb := Preprocess(img, 56)
	if m, _, n := maxDiff(rgb, wantRGB); len(rgb) != len(wantRGB) || m != 0 {
		t.Errorf("resized RGB: len %d (want %d), max |diff| %d over %d bytes", len(rgb), len(wantRGB), m, n)
	}
	checkF32(t, pix, wantPix, 1e-6)
}

// TestResizeProperties checks cases no golden covers: identity copy,
// constant images stay constant (the coefficients sum to one), tiny inputs.
func TestResizeProperties(t *testing.T) {
	for _, c := range []struct{ w, h, ow, oh int }{
		{1, 1, 1, 1}, {1, 1, 7, 3}, {2, 3, 1, 1}, {5, 4, 5, 4}, {300, 2, 7, 9}, {3, 300, 490, 490}, {1000, 1, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dx%d->%dx%d", c.w, c.h, c.ow, c.oh), func(t *testing.T) {
			for _, v := range []uint8{0, 1, 128, 254, 255} {
				src := make([]uint8, 3*c.w*c.h)
				for i := range src {
					src[i] = v
				}
				got := ResizeBicubic(src, c.w, c.h, c.ow, c.oh)
				for i, g := range got {
					if g != v {
						t.Fatalf("constant %d: byte %d = %d", v, i, g)
					}
				}
				if c.w == c.ow && c.h == c.oh && &got[0] == &src[0] {
					t.Fatal("identity resize returned the input slice, want a copy")
				}
			}
		})
	}
}

func TestResizePanicsOnBadArgs(t *testing.T) {
	for _, c := range []struct {
		n, w, h, ow, oh int
	}{{12, 2, 2, 0, 1}, {11, 2, 2, 1, 1}, {0, 0, 0, 1, 1}, {12, 2, 2, 1, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", c)
				}
			}()
			ResizeBicubic(make([]uint8, c.n), c.w, c.h, c.ow, c.oh)
		}()
	}
}

// BenchmarkPreprocess1024x768 is CogVLM's transform of a 1024×768 photo
// (4×4 tiles of a 256×192 crop of skimage's coffee.png) to 490×490;
// bytes = input RGB bytes.
func BenchmarkPreprocess1024x768(b *testing.B) {
	src, w, h := loadRGB(b, "photo_coffee.png")
	big := &RGB{Pix: tile(src, w, h, 4, 4), W: 4 * w, H: 4 * h}
	if big.W != 1024 || big.H != 768 {
		b.Fatalf("input %dx%d", big.W, big.H)
	}
	b.SetBytes(int64(len(big.Pix)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Preprocess(big, 490)
	}
}

// BenchmarkResize1024x768To490 is the resampler alone.
func BenchmarkResize1024x768To490(b *testing.B) {
	src, w, h := loadRGB(b, "photo_coffee.png")
	big := tile(src, w, h, 4, 4)
	b.SetBytes(int64(len(big)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ResizeBicubic(big, 4*w, 4*h, 490, 490)
	}
}
