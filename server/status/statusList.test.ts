import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/AppError.js';
import { statusList } from './statusList.js';

const FIELDS = ['id', 'name', 'media_load', 'is_locked', 'start_time'];
const objects = [
  { id: 'a', name: 'Alpha room', media_load: 10, is_locked: false, start_time: '2026-01-01T10:00:00.000000' },
  { id: 'b', name: 'beta Room', media_load: 55.5, is_locked: true, start_time: '2026-01-01T11:00:00.000000' },
  { id: 'c', name: 'Gamma', media_load: 0, is_locked: false, start_time: '2026-01-01T12:00:00.000000' },
];
const ids = (q: Record<string, string>) => statusList('/x/', q, FIELDS, objects).objects.map((o) => o.id);

describe('status lists over live objects, in Tastypie’s way', () => {
  it('filters with the lookups scripts use, typed as the field', () => {
    expect(ids({ name: 'Gamma' })).toEqual(['c']);
    expect(ids({ name__iexact: 'gamma' })).toEqual(['c']);
    expect(ids({ name__icontains: 'ROOM' })).toEqual(['a', 'b']);
    expect(ids({ name__contains: 'Room' })).toEqual(['b']);
    expect(ids({ name__istartswith: 'b' })).toEqual(['b']);
    expect(ids({ media_load__gt: '5' })).toEqual(['a', 'b']);
    expect(ids({ media_load__lte: '10' })).toEqual(['a', 'c']);
    expect(ids({ media_load: '55.5' })).toEqual(['b']);
    expect(ids({ is_locked: 'true' })).toEqual(['b']);
    expect(ids({ is_locked: 'false' })).toEqual(['a', 'c']);
    expect(ids({ start_time__gte: '2026-01-01T11:00:00' })).toEqual(['b', 'c']);
    expect(ids({ id__in: 'a,c' })).toEqual(['a', 'c']);
    expect(ids({ media_load__gt: 'lots' })).toEqual([]);
    // Not a field of the resource: ignored, as the configuration lists do.
    expect(ids({ password: 'x' })).toEqual(['a', 'b', 'c']);
  });

  it('orders, pages with next/previous, and refuses an unknown order or lookup with a 400', () => {
    expect(ids({ order_by: '-media_load' })).toEqual(['b', 'a', 'c']);
    const page = statusList('/x/', { limit: '1', offset: '1', order_by: 'name', name__icontains: 'a' }, FIELDS, objects);
    expect(page.meta).toMatchObject({ limit: 1, offset: 1, total_count: 3 });
    expect(page.meta.next).toBe('/x/?limit=1&offset=2&order_by=name&name__icontains=a');
    expect(page.meta.previous).toBe('/x/?limit=1&offset=0&order_by=name&name__icontains=a');
    expect(() => statusList('/x/', { order_by: 'secret' }, FIELDS, objects)).toThrow(AppError);
    expect(() => statusList('/x/', { name__regex: '.*' }, FIELDS, objects)).toThrow(/Lookup 'regex'/);
    expect(() => statusList('/x/', { limit: '-1' }, FIELDS, objects)).toThrow(AppError);
  });
});
