package model

import "reflect"

// ContextAllocated sums, by reflection, the bytes of every slice a Context
// holds (nested slices and the vision scratch included; the model and the
// thread pool excluded): what PlanMemory must predict.
func ContextAllocated(c *Context) (ctx, vision int64) {
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch v.Type().Field(i).Name {
		case "m", "pool":
			continue
		case "vs":
			if !v.Field(i).IsNil() {
				vision = sliceBytes(v.Field(i).Elem())
			}
			continue
		}
		ctx += sliceBytes(v.Field(i))
	}
	return ctx, vision
}

func sliceBytes(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.Struct:
		var n int64
		for i := 0; i < v.NumField(); i++ {
			n += sliceBytes(v.Field(i))
		}
		return n
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Slice {
			var n int64
			for i := 0; i < v.Len(); i++ {
				n += sliceBytes(v.Index(i))
			}
			return n
		}
		return int64(v.Cap()) * int64(v.Type().Elem().Size())
	}
	return 0
}

// SetForceRepack makes New repack packable matrices whether or not the CPU has
// a fast packed kernel (tests only); it returns the previous setting.
func SetForceRepack(v bool) (previous bool) {
	previous, forceRepack = forceRepack, v
	return previous
}

// FusedGateUps returns how many layers multiply gate and up as one packed
// matrix (fuseGateUp).
func (m *Model) FusedGateUps() int {
	n := 0
	for i := range m.layers {
		if m.layers[i].gateUp.Data != nil {
			n++
		}
	}
	return n
}

// UnfuseGateUp makes every layer multiply gate and up separately again.
func (m *Model) UnfuseGateUp() {
	for i := range m.layers {
		m.layers[i].gateUp = Matrix{}
	}
}
