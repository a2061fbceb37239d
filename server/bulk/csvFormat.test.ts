import { describe, expect, it } from 'vitest';
import { PIN_MESSAGES } from '../../shared/conference/pin.js';
import { MSG } from '../../shared/config/field.js';
import { ADP_MESSAGES } from '../../shared/config/resources/usersDevices.js';
import { CSV_COLUMNS, CSV_DEFINITIONS, CSV_KINDS, CSV_MESSAGES, MAX_ERRORS, parseCsv, parseCsvInSteps, REF_COLUMNS } from './csvFormat.js';

describe('CSV column orders', () => {
  it('are the guide’s, verbatim', () => {
    expect(CSV_COLUMNS.vmr.join(',')).toBe(
      'name,description,pin,allow_guests,guest_pin,alias_alias,alias_description,tag,max_callrate_in,max_callrate_out,call_type,host_view,enable_overlay_text,ivr_theme_name,participant_limit,primary_owner_email_address,guests_can_present,enable_chat,crypto_mode,max_pixels_per_second',
    );
    expect(CSV_COLUMNS.device.join(',')).toBe('alias,tag,description,username,password,primary_owner_email_address');
    expect(CSV_COLUMNS.automatic_participant.join(',')).toBe(
      'alias,remote_display_name,description,protocol,dtmf_sequence,role,streaming,keep_conference_alive,call_type,routing,presentation_url,system_location_name,conference_name',
    );
    expect(CSV_COLUMNS.virtual_auditorium).toHaveLength(22);
    expect(CSV_COLUMNS.virtual_reception).toHaveLength(20);
  });

  it('each column is a field of its definition, an alias column or a named reference', () => {
    for (const kind of CSV_KINDS) {
      for (const c of CSV_COLUMNS[kind]) {
        const known = c in CSV_DEFINITIONS[kind].fields || c === 'alias_alias' || c === 'alias_description' || c in REF_COLUMNS;
        expect(known, `${kind}.${c}`).toBe(true);
      }
    }
  });
});

describe('parseCsv', () => {
  it('reads the guide example without a header: bob gets two aliases', () => {
    const { records, errors } = parseCsv('vmr', 'alice,,,,,meet.alice\nbob,,,,,meet.bob\nbob,,,,,meet.bobby\n');
    expect(errors).toEqual([]);
    expect(records.map((r) => [r.input.name, r.aliases.map((a) => a.alias), r.line])).toEqual([
      ['alice', ['meet.alice'], 1],
      ['bob', ['meet.bob', 'meet.bobby'], 3],
    ]);
    // Blank fields take their defaults.
    expect(records[0]!.input).toMatchObject({
      description: '',
      pin: '',
      allow_guests: false,
      call_type: 'video',
      host_view: 'one_main_seven_pips',
      guests_can_present: true,
      enable_chat: 'default',
      crypto_mode: null,
      max_pixels_per_second: null,
      participant_limit: null,
    });
  });

  it('accepts true/false in any case and keeps other values exactly', () => {
    const { records, errors } = parseCsv('vmr', 'alice,,1234,True,6789,meet.alice\nbob,,4567,TRUE,9876,Meet.Bob\ncharlie, Spaced ,5432145,false,,meet.charlie');
    expect(errors).toEqual([]);
    expect(records.map((r) => r.input.allow_guests)).toEqual([true, true, false]);
    expect(records[1]!.aliases[0]!.alias).toBe('Meet.Bob');
    expect(records[2]!.input.description).toBe(' Spaced ');
  });

  it('rejects other spellings of booleans and enum values in the wrong case, with the line', () => {
    const { errors } = parseCsv('vmr', 'alice,,,,,meet.alice\nbob,,,yes,,meet.bob\ncarol,,,,,meet.carol,,,,,VIDEO');
    expect(errors).toEqual(['Line 2: allow_guests: ' + CSV_MESSAGES.boolean, `Line 3: call_type: ${MSG.choice('VIDEO')}`]);
  });

  it('takes an optional header row, with the columns in any order', () => {
    const text = 'alias_alias,name,pin,allow_guests\nmeet.alice,alice,1234,true\n';
    const { records, errors } = parseCsv('vmr', text);
    expect(errors).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ line: 2, input: { name: 'alice', pin: '1234', allow_guests: true }, aliases: [{ alias: 'meet.alice', line: 2 }] });
  });

  it('rejects an unknown or repeated header name', () => {
    expect(parseCsv('vmr', 'name,colour\nalice,red').errors).toEqual([`Line 1: ${CSV_MESSAGES.unknownColumn('colour')}`]);
    expect(parseCsv('vmr', 'name,pin,pin\nalice,1234,1234').errors).toEqual([`Line 1: ${CSV_MESSAGES.duplicateColumn('pin')}`]);
  });

  it('accepts the sync_tag column of the guide’s device example header, and ignores it', () => {
    const { records, errors } = parseCsv(
      'device',
      'alias,tag,description,username,password,sync_tag,primary_owner_email_address\nalice@example.com,,,alice,1234,x,alice@example.com',
    );
    expect(errors).toEqual([]);
    expect(records[0]!.input).toMatchObject({
      alias: 'alice@example.com',
      username: 'alice',
      password: '1234',
      primary_owner_email_address: 'alice@example.com',
    });
    expect(records[0]!.input).not.toHaveProperty('sync_tag');
  });

  it('handles quoting: commas, doubled quotes and line breaks inside values; lines count from the row start', () => {
    const text = 'alice,"Room for x, y and z",,,,meet.alice\nbob,"He said ""hi""\nover two lines",,,,meet.bob\ncarol,,12x4,,,meet.carol';
    const { records, errors } = parseCsv('vmr', text);
    expect(records[0]!.input.description).toBe('Room for x, y and z');
    expect(records[1]!.input.description).toBe('He said "hi"\nover two lines');
    expect(records[1]!.line).toBe(2);
    expect(errors).toEqual([`Line 4: pin: ${PIN_MESSAGES.format}`]);
  });

  it('reports malformed quoting with its line', () => {
    const { errors } = parseCsv('vmr', 'alice,,,,,meet.alice\nbob,"open,,,,meet.bob\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^Line \d+: /);
  });

  it('lets the last duplicate win, keeping every row’s alias', () => {
    const text = ['bob,first,1234,,,meet.bob,Main', 'alice,,,,,meet.alice', 'bob,second,5678,,,meet.bobby,Other', 'bob,third,5678,,,meet.bob,Main again'].join(
      '\n',
    );
    const { records, errors } = parseCsv('vmr', text);
    expect(errors).toEqual([]);
    expect(records.map((r) => r.input.name)).toEqual(['alice', 'bob']);
    const bob = records[1]!;
    expect(bob.line).toBe(4);
    expect(bob.input).toMatchObject({ description: 'third', pin: '5678' });
    expect(bob.aliases).toEqual([
      { alias: 'meet.bob', description: 'Main again', line: 4 },
      { alias: 'meet.bobby', description: 'Other', line: 3 },
    ]);
  });

  it('reports every bad row with its line and field, after the PIN rules', () => {
    const text = ['alice,,1234,true,,meet.alice', 'bob,,,true,,meet.bob', 'carol,,1234,,,meet.carol,,,notanumber', 'dave,,1234,,12345,meet.dave'].join('\n');
    expect(parseCsv('vmr', text).errors).toEqual([
      `Line 2: pin: ${PIN_MESSAGES.allowGuestsNeedsHost}`,
      `Line 3: max_callrate_in: ${MSG.integer}`,
      `Line 4: guest_pin: ${PIN_MESSAGES.sameLength}`,
    ]);
  });

  it('requires the name and reports it on its line', () => {
    expect(parseCsv('vmr', 'alice,,,,,meet.alice\n,,,,,meet.nobody').errors).toEqual([`Line 2: name: ${MSG.required}`]);
  });

  it('rejects values beyond the last column but allows trailing blanks', () => {
    expect(parseCsv('device', 'a@b.c,,,,,,,').errors).toEqual([]);
    expect(parseCsv('device', 'a@b.c,,,,,,x').errors).toEqual([`Line 1: ${CSV_MESSAGES.tooManyFields(6)}`]);
  });

  it('caps the number of errors reported', () => {
    const text = Array.from({ length: 30 }, (_, i) => `r${i},,12x4,,,meet.r${i}`).join('\n');
    const { errors } = parseCsv('vmr', text);
    expect(errors).toHaveLength(MAX_ERRORS + 1);
    expect(errors.at(-1)).toBe(CSV_MESSAGES.tooManyErrors(10));
  });

  it('collects named references for the service to resolve; unsupported names too', () => {
    const { records, errors } = parseCsv('virtual_reception', 'Reception,,meet.reception,,,,,,Blue theme,lync1,,,,London');
    expect(errors).toEqual([]);
    expect(records[0]!.refs.map((r) => [r.column, r.field, r.name])).toEqual([
      ['ivr_theme_name', 'ivr_theme', 'Blue theme'],
      ['mssip_proxy_name', 'mssip_proxy', 'lync1'],
      ['system_location_name', 'system_location', 'London'],
    ]);
    expect(records[0]!.input).toMatchObject({ two_stage_dial_type: 'regular' });
  });

  it('keys ADPs by alias and conference name (the guide example makes two)', () => {
    const text =
      'alice@example.com,Alice Jones,,,,chair,,,,,,,meet Alice\nalice@example.com,Alice Jones,,,,guest,,,,,,,meet Sales\nalice@example.com,Alice J,,,,guest,,,,,,,meet Alice';
    const { records, errors } = parseCsv('automatic_participant', text);
    expect(errors).toEqual([]);
    expect(records.map((r) => [r.input.remote_display_name, r.input.role, r.refs[0]!.name, r.line])).toEqual([
      ['Alice Jones', 'guest', 'meet Sales', 2],
      ['Alice J', 'guest', 'meet Alice', 3],
    ]);
    expect(records[0]!.input).toMatchObject({
      protocol: 'sip',
      streaming: false,
      keep_conference_alive: 'keep_conference_alive_if_multiple',
      call_type: 'video',
      routing: 'manual',
    });
  });

  it('checks DTMF sequences, which must be quoted when they hold commas', () => {
    const ok = parseCsv('automatic_participant', 'bridge@example.com,,,,"777#,,,1234#",,,,,,,,');
    expect(ok.errors).toEqual([]);
    expect(ok.records[0]!.input.dtmf_sequence).toBe('777#,,,1234#');
    expect(parseCsv('automatic_participant', 'bridge@example.com,,,,12a,,,,,,,,').errors).toEqual([`Line 1: dtmf_sequence: ${ADP_MESSAGES.dtmf}`]);
  });

  it('decrypts exported secrets before checking them', () => {
    const decrypt = (v: string) => (v === 'enc:good' ? 's3cret' : null);
    const r = parseCsv('device', 'a@b.c,,,alice,enc:good\nb@b.c,,,bob,enc:bad', { decrypt });
    expect(r.errors).toEqual([`Line 2: password: ${CSV_MESSAGES.decrypt}`]);
    expect(r.records[0]!.input.password).toBe('s3cret');
  });

  it('groups device duplicates case-insensitively, the last row winning', () => {
    const { records } = parseCsv('device', 'Alice@example.com,,first\nalice@example.com,,second');
    expect(records).toHaveLength(1);
    expect(records[0]!.input).toMatchObject({ alias: 'alice@example.com', description: 'second' });
  });

  it('skips blank lines and a byte-order mark, and reads CRLF files', () => {
    const { records, errors } = parseCsv('device', '\uFEFFalias,description\r\n\r\na@b.c,first\r\nb@b.c,second\r\n');
    expect(errors).toEqual([]);
    expect(records.map((r) => [r.input.alias, r.line])).toEqual([
      ['a@b.c', 3],
      ['b@b.c', 4],
    ]);
  });

  it('reads a large file in slices without losing a row or a line number, quoted line breaks and a header included', async () => {
    // Over 200 KB: several 32 KB slices; every 7th description spans three lines and holds quotes and commas.
    const lines = ['name,description,pin,alias_alias'];
    const expected: { name: string; line: number; description: string }[] = [];
    let line = 2;
    for (let i = 0; i < 6_000; i++) {
      const description = i % 7 === 0 ? `Room "${i}",\nsecond line\nthird` : `Room ${i}`;
      const cell = i % 7 === 0 ? `"${description.replaceAll('"', '""')}"` : description;
      lines.push(`room${i},${cell},${i === 5_999 ? '12x4' : ''},meet.room${i}`);
      expected.push({ name: `room${i}`, line, description });
      line += i % 7 === 0 ? 3 : 1;
    }
    const text = lines.join('\n');
    expect(text.length).toBeGreaterThan(6 * 32 * 1024);
    for (const parsed of [parseCsv('vmr', text), await parseCsvInSteps('vmr', text)]) {
      expect(parsed.records.map((r) => ({ name: r.input.name, line: r.line, description: r.input.description }))).toEqual(expected);
      expect(parsed.errors).toEqual([`Line ${expected.at(-1)!.line}: pin: ${PIN_MESSAGES.format}`]);
    }
  });

  it('reports malformed quoting deep in a large file with its line', async () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => `room${i},,,,,meet.room${i}`);
    rows[4_000] = 'broken,"open,,,,meet.broken';
    const { errors } = await parseCsvInSteps('vmr', rows.join('\n'));
    expect(errors).toHaveLength(1);
    expect(errors).toEqual([`Line 4001: ${CSV_MESSAGES.quoteNotClosed}`]);
  });
});
