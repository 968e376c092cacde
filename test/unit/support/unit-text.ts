/**
 * fast-check arbitraries for unit files as users write them, including the
 * awkward corners: padding, comments, CRLF, continuations (also ended by a
 * blank line or the end of the file), values ending in "\" or "\ ", a byte
 * order mark, [X-Fleet] multi-values and specifiers. Only sections and
 * syntax systemd knows, so systemd's parser can judge the same files.
 */
import fc from 'fast-check';

const KEYS: Record<string, readonly string[]> = {
  Unit: ['Description', 'After', 'Requires', 'ConditionHost', 'ConditionPathExists', 'AssertHost', 'ConditionEnvironment', 'ConditionKernelCommandLine'],
  Service: ['ExecStart', 'ExecStartPre', 'Environment', 'Restart', 'RestartSec'],
  Install: ['WantedBy'],
  'X-Fleet': ['Conflicts', 'X-Conflicts', 'Replaces', 'MachineOf', 'MachineMetadata', 'Global', 'OnDisconnect', 'MachineID', 'Unknown'],
};

const piece = fc.constantFrom(
  'a', 'web', 'db*.service', 'web@%i.service', '%n', '%p', ' ', '  ', '"', '"a=b" "c=d"', 'role=db', '=', '#x', ';x',
  '\\', '[', ']', '*', '?', '[a-c]', '/bin/true', 'true', 'false', 'é', '\t', 'keep', 'stop',
);
/** How a value's last physical line ends: now and then in a backslash (refused: see validate.ts). */
const ending = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('', ' ', '\t') },
  { weight: 1, arbitrary: fc.constantFrom('\\', '\\ ', ' \\ ', '\\\t') },
);
const pad = fc.constantFrom('', '', ' ', '\t', '  ');

const line = (section: string) =>
  fc.record({
    name: fc.constantFrom(...KEYS[section]!),
    pads: fc.tuple(pad, pad, pad),
    // Continuation lines after the first: each but the last ends in "\".
    parts: fc.array(fc.array(piece, { maxLength: 5 }).map((p) => p.join('')), { minLength: 1, maxLength: 3 }),
    ending,
    after: fc.constantFrom('', '', '', '\n', '# comment\n', '; comment \\\n', '   \n'),
  });

const block = fc.constantFrom(...Object.keys(KEYS)).chain((section) =>
  fc.record({ section: fc.constant(section), pad, lines: fc.array(line(section), { maxLength: 5 }) }),
);

export const unitText = fc
  .record({
    bom: fc.constantFrom('', '', '\ufeff'),
    preamble: fc.constantFrom('', '', '# header comment\n', '\n'),
    blocks: fc.array(block, { minLength: 1, maxLength: 5 }),
    crlf: fc.boolean(),
    finalNewline: fc.constantFrom(true, true, false),
  })
  .map(({ bom, preamble, blocks, crlf, finalNewline }) => {
    let text = bom + preamble;
    for (const b of blocks) {
      text += `[${b.section}]${b.pad}\n`;
      for (const l of b.lines) {
        const [lead, beforeEq, afterEq] = l.pads;
        text += `${lead}${l.name}${beforeEq}=${afterEq}${l.parts.join('\\\n')}${l.ending}\n${l.after}`;
      }
    }
    if (!finalNewline) text = text.replace(/\n$/, '');
    return crlf ? text.replaceAll('\n', '\r\n') : text;
  });

/** Names the generated files are submitted under: plain, and an instance (specifiers expand). */
export const unitName = fc.constantFrom('app.service', 'web@blue.service', 'db-1.service');
