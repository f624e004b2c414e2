package tokenizer

import (
	"errors"
	"fmt"
	"math"
)

// SentencePiece ModelProto field numbers (sentencepiece_model.proto).
const (
	spModelPieces     = 1 // repeated SentencePiece
	spModelTrainer    = 2 // TrainerSpec
	spModelNormalizer = 3 // NormalizerSpec

	spPieceText  = 1 // string
	spPieceScore = 2 // float
	spPieceType  = 3 // enum Type, default NORMAL

	spTrainerModelType    = 3  // enum: UNIGRAM=1 (default), BPE=2, WORD=3, CHAR=4
	spTrainerByteFallback = 35 // bool
	spTrainerUnkID        = 40 // int32, default 0
	spTrainerBosID        = 41 // int32, default 1
	spTrainerEosID        = 42 // int32, default 2
	spTrainerPadID        = 43 // int32, default -1

	spNormAddDummyPrefix = 3 // bool, default true

	spModelTypeBPE = 2
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// pbReader reads protobuf wire format from a byte slice, never past its end.
type pbReader struct {
	data []byte
	off  int
	base int // offset of data within the file, for messages
}

func (r *pbReader) done() bool { return r.off >= len(r.data) }

func (r *pbReader) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", r.base+r.off, fmt.Sprintf(format, args...))
}

func (r *pbReader) varint() (uint64, error) {
	var x uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.data) {
			return 0, r.errorf("truncated varint")
		}
		b := r.data[r.off]
		r.off++
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, r.errorf("varint longer than 10 bytes")
}

// field reads a field key.
func (r *pbReader) field() (num uint64, wire int, err error) {
	k, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	num, wire = k>>3, int(k&7)
	if num == 0 {
		return 0, 0, r.errorf("field number 0")
	}
	return num, wire, nil
}

// bytes reads a length-delimited payload and its offset in the file.
func (r *pbReader) bytes() ([]byte, int, error) {
	n, err := r.varint()
	if err != nil {
		return nil, 0, err
	}
	if n > uint64(len(r.data)-r.off) {
		return nil, 0, r.errorf("length %d beyond the %d bytes left", n, len(r.data)-r.off)
	}
	start := r.off
	r.off += int(n)
	return r.data[start:r.off], r.base + start, nil
}

func (r *pbReader) fixed32() (uint32, error) {
	if len(r.data)-r.off < 4 {
		return 0, r.errorf("truncated fixed32")
	}
	d := r.data[r.off:]
	r.off += 4
	return uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16 | uint32(d[3])<<24, nil
}

// skip skips a field of the given wire type.
func (r *pbReader) skip(wire int) error {
	switch wire {
	case wireVarint:
		_, err := r.varint()
		return err
	case wireFixed64:
		if len(r.data)-r.off < 8 {
			return r.errorf("truncated fixed64")
		}
		r.off += 8
		return nil
	case wireBytes:
		_, _, err := r.bytes()
		return err
	case wireFixed32:
		_, err := r.fixed32()
		return err
	}
	return r.errorf("unsupported wire type %d", wire)
}

// expect checks a field's wire type.
func (r *pbReader) expect(num uint64, wire, want int) error {
	if wire != want {
		return r.errorf("field %d: wire type %d, want %d", num, wire, want)
	}
	return nil
}

// parseSentencePiece builds a Vocab from a SentencePiece ModelProto
// (tokenizer.model). Only BPE models are accepted.
func parseSentencePiece(data []byte, name string) (*Vocab, error) {
	v, err := parseModelProto(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

func parseModelProto(data []byte) (*Vocab, error) {
	v := &Vocab{Model: "llama", UNK: 0, BOS: 1, EOS: 2, PAD: -1, AddBOS: true, AddSpacePrefix: true}
	modelType := uint64(1) // UNIGRAM unless the trainer spec says otherwise
	r := &pbReader{data: data}
	for !r.done() {
		num, wire, err := r.field()
		if err != nil {
			return nil, err
		}
		switch num {
		case spModelPieces, spModelTrainer, spModelNormalizer:
			if err := r.expect(num, wire, wireBytes); err != nil {
				return nil, err
			}
			msg, base, err := r.bytes()
			if err != nil {
				return nil, err
			}
			sub := &pbReader{data: msg, base: base}
			switch num {
			case spModelPieces:
				if len(v.Tokens) >= MaxVocab {
					return nil, r.errorf("more than %d pieces", MaxVocab)
				}
				p, score, typ, err := parsePiece(sub)
				if err != nil {
					return nil, fmt.Errorf("piece %d: %w", len(v.Tokens), err)
				}
				v.Tokens = append(v.Tokens, p)
				v.Scores = append(v.Scores, score)
				v.Types = append(v.Types, typ)
			case spModelTrainer:
				if err := parseTrainer(sub, v, &modelType); err != nil {
					return nil, fmt.Errorf("trainer_spec: %w", err)
				}
			case spModelNormalizer:
				if err := parseNormalizer(sub, v); err != nil {
					return nil, fmt.Errorf("normalizer_spec: %w", err)
				}
			}
		default:
			if err := r.skip(wire); err != nil {
				return nil, err
			}
		}
	}
	if modelType != spModelTypeBPE {
		return nil, fmt.Errorf("trainer_spec.model_type %d not supported (want BPE = 2)", modelType)
	}
	if len(v.Tokens) == 0 {
		return nil, errors.New("no pieces")
	}
	n := int32(len(v.Tokens))
	for _, id := range []*int32{&v.UNK, &v.BOS, &v.EOS, &v.PAD} {
		if *id < 0 || *id >= n {
			*id = -1 // disabled (SentencePiece uses -1) or out of range
		}
	}
	return v, nil
}

func parsePiece(r *pbReader) (piece string, score float32, typ int32, err error) {
	typ = TypeNormal
	for !r.done() {
		num, wire, err := r.field()
		if err != nil {
			return "", 0, 0, err
		}
		switch num {
		case spPieceText:
			if err := r.expect(num, wire, wireBytes); err != nil {
				return "", 0, 0, err
			}
			b, _, err := r.bytes()
			if err != nil {
				return "", 0, 0, err
			}
			piece = string(b)
		case spPieceScore:
			if err := r.expect(num, wire, wireFixed32); err != nil {
				return "", 0, 0, err
			}
			u, err := r.fixed32()
			if err != nil {
				return "", 0, 0, err
			}
			score = math.Float32frombits(u)
		case spPieceType:
			if err := r.expect(num, wire, wireVarint); err != nil {
				return "", 0, 0, err
			}
			x, err := r.varint()
			if err != nil {
				return "", 0, 0, err
			}
			if x < uint64(TypeNormal) || x > uint64(TypeByte) {
				return "", 0, 0, r.errorf("piece %q: unknown type %d", piece, x)
			}
			typ = int32(x)
		default:
			if err := r.skip(wire); err != nil {
				return "", 0, 0, err
			}
		}
	}
	return piece, score, typ, nil
}

func parseTrainer(r *pbReader, v *Vocab, modelType *uint64) error {
	for !r.done() {
		num, wire, err := r.field()
		if err != nil {
			return err
		}
		var dst *int32
		switch num {
		case spTrainerModelType, spTrainerByteFallback:
			if err := r.expect(num, wire, wireVarint); err != nil {
				return err
			}
			x, err := r.varint()
			if err != nil {
				return err
			}
			if num == spTrainerModelType {
				*modelType = x
			} // byte_fallback: the <0xNN> pieces say it all
			continue
		case spTrainerUnkID:
			dst = &v.UNK
		case spTrainerBosID:
			dst = &v.BOS
		case spTrainerEosID:
			dst = &v.EOS
		case spTrainerPadID:
			dst = &v.PAD
		default:
			if err := r.skip(wire); err != nil {
				return err
			}
			continue
		}
		if err := r.expect(num, wire, wireVarint); err != nil {
			return err
		}
		x, err := r.varint()
		if err != nil {
			return err
		}
		*dst = int32(x) // int32 fields are sign-extended to 64 bits on the wire
	}
	return nil
}

func parseNormalizer(r *pbReader, v *Vocab) error {
	for !r.done() {
		num, wire, err := r.field()
		if err != nil {
			return err
		}
		if num != spNormAddDummyPrefix {
			if err := r.skip(wire); err != nil {
				return err
			}
			continue
		}
		if err := r.expect(num, wire, wireVarint); err != nil {
			return err
		}
		x, err := r.varint()
		if err != nil {
			return err
		}
		v.AddSpacePrefix = x != 0
	}
	return nil
}
