/** The five kinds of CSV file of the guide's bulk import/export (guide-digest-3 §15). */
export const CSV_KINDS = ['vmr', 'virtual_auditorium', 'virtual_reception', 'device', 'automatic_participant'] as const;
export type CsvKind = (typeof CSV_KINDS)[number];
