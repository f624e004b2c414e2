package model

import (
	"reflect"
	"testing"
)

func seq(parts ...any) []TokenType {
	var out []TokenType
	for i := 0; i < len(parts); i += 2 {
		for j := 0; j < parts[i+1].(int); j++ {
			out = append(out, parts[i].(TokenType))
		}
	}
	return out
}

func TestPositionIDs(t *testing.T) {
	tests := []struct {
		name  string
		types []TokenType
		want  []int32
	}{
		{"empty", nil, []int32{}},
		{"text only", seq(Lang, 4), []int32{0, 1, 2, 3}},
		// BOS 0, boi 1, patches 2, eoi 3, text 4, 5 (cogvlm.md §3.6)
		{"image", seq(Lang, 1, Vision, 6, Lang, 2), []int32{0, 1, 2, 2, 2, 2, 3, 4, 5}},
		{"image then decode", append(seq(Lang, 1, Vision, 4, Lang, 1), Lang, Lang), []int32{0, 1, 2, 2, 3, 4, 5, 6}},
		// boi+eoi only: both edges count as text
		{"two vision rows", seq(Lang, 1, Vision, 2, Lang, 1), []int32{0, 1, 2, 3}},
		{"one vision row", seq(Lang, 1, Vision, 1, Lang, 1), []int32{0, 1, 2}},
		{"vision first", seq(Vision, 4, Lang, 1), []int32{0, 1, 1, 2, 3}},
		{"vision last", seq(Lang, 1, Vision, 4), []int32{0, 1, 2, 2, 3}},
		{"two images", seq(Lang, 1, Vision, 3, Lang, 1, Vision, 4), []int32{0, 1, 2, 3, 4, 5, 6, 6, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PositionIDs(tc.types); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVisionExpertMask(t *testing.T) {
	tests := []struct {
		name  string
		types []TokenType
		want  []bool
	}{
		{"empty", nil, []bool{}},
		{"text", seq(Lang, 3), []bool{false, false, false}},
		// boi and patches vision; eoi, BOS and text language
		{"image", seq(Lang, 1, Vision, 4, Lang, 1), []bool{false, true, true, true, false, false}},
		{"image at end of call", seq(Lang, 1, Vision, 3), []bool{false, true, true, false}},
		{"single vision slot", seq(Vision, 1), []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := VisionExpertMask(tc.types); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExpertRuns(t *testing.T) {
	mask := []bool{false, true, true, true, false, false, true}
	tests := []struct {
		lo, hi int
		want   []run
	}{
		{0, 7, []run{{0, 1, false}, {1, 4, true}, {4, 6, false}, {6, 7, true}}},
		{2, 5, []run{{0, 2, true}, {2, 3, false}}},
		{4, 4, nil},
	}
	for _, tc := range tests {
		if got := expertRuns(nil, mask, tc.lo, tc.hi); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("[%d,%d): got %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}
