import { describe, expectTypeOf, it } from 'vitest';
import type { AliasInput, StoredAlias } from '../alias/alias.schema.js';
import type { ConfigRecord, InputOf, RecordOf, StoredValues, StoredValuesOf, ValuesIn, ValuesInOf } from './record.js';
import type { ResourceDef } from './resource.js';
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

  it('types what the stores hold and are given, and what server code writes', () => {
    type Vmr = typeof vmrResource;
    // A field added to a definition after an object was stored is missing from what the store holds.
    expectTypeOf<StoredValuesOf<Vmr>['pin']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StoredValuesOf<Vmr>['aliases']>().toEqualTypeOf<StoredAlias[] | undefined>();
    expectTypeOf<ValuesInOf<Vmr>['pin']>().toEqualTypeOf<string>();
    expectTypeOf<ValuesInOf<Vmr>['aliases']>().toEqualTypeOf<AliasInput[] | undefined>();
    expectTypeOf<ValuesInOf<typeof eventSinkResource>>().not.toHaveProperty('aliases');
    expectTypeOf<{ pin: '1234'; aliases: [{ alias: 'meet.alice' }] }>().toExtend<InputOf<Vmr>>();
    expectTypeOf<{ pin: 1234 }>().not.toExtend<InputOf<Vmr>>();
    expectTypeOf<{ nope: true }>().not.toExtend<InputOf<Vmr>>();
    // A definition known only at run time (the APIs, bulk import) reads and writes loose records.
    expectTypeOf<RecordOf<ResourceDef>>().toEqualTypeOf<ConfigRecord>();
    expectTypeOf<StoredValuesOf<ResourceDef>>().toEqualTypeOf<StoredValues>();
    expectTypeOf<ValuesInOf<ResourceDef>>().toEqualTypeOf<ValuesIn>();
    expectTypeOf<InputOf<ResourceDef>>().toEqualTypeOf<unknown>();
  });
});
