import { describe, expectTypeOf, it } from 'vitest';
import type { StoredAlias } from '../alias/alias.schema.js';
import type { RecordOf } from './record.js';
import { globalResource, systemLocationResource } from './resources/platform.js';
import { vmrResource } from './resources/services.js';
import { eventSinkResource } from './resources/system.js';

// Checked by `tsc --noEmit` (the test files are part of the project), so a wrong inference fails the build.
describe('RecordOf', () => {
  it('types each field as its definition stores it', () => {
    type Vmr = RecordOf<typeof vmrResource>;
    expectTypeOf<Vmr['pin']>().toEqualTypeOf<string>();
    expectTypeOf<Vmr['allow_guests']>().toEqualTypeOf<boolean>();
    expectTypeOf<Vmr['participant_limit']>().toEqualTypeOf<number | null>();
    expectTypeOf<Vmr['ivr_theme']>().toEqualTypeOf<number | null>();
    expectTypeOf<Vmr['aliases']>().toEqualTypeOf<StoredAlias[]>();
    expectTypeOf<Vmr['host_view']>().not.toEqualTypeOf<string>();
    expectTypeOf<'one_main_seven_pips'>().toExtend<Vmr['host_view']>();
    expectTypeOf<Vmr>().not.toHaveProperty('nope');
    expectTypeOf<RecordOf<typeof globalResource>['guests_only_timeout']>().toEqualTypeOf<number>();
    expectTypeOf<RecordOf<typeof systemLocationResource>['client_stun_servers']>().toEqualTypeOf<number[]>();
    expectTypeOf<RecordOf<typeof eventSinkResource>['version']>().toEqualTypeOf<number>();
    expectTypeOf<RecordOf<typeof eventSinkResource>>().not.toHaveProperty('aliases');
  });
});
