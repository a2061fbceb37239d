import { regexTesterInputSchema } from '../../../shared/routing/regexTester.schema.js';
import { testRegex } from '../../../shared/routing/pythonRegex.js';
import { AppError } from '../../errors/AppError.js';
import { permittedProcedure, router } from '../trpc.js';

/** Utilities > Regular Expression Tester (digest 4 §5.1): the same matching Call Routing Rules use. */
export const regexTesterRouter = router({
  test: permittedProcedure('system', 'view')
    .input(regexTesterInputSchema)
    .query(({ input }) => {
      const { error, errorField, ...outcome } = testRegex(input);
      // A pattern or replace string Python would refuse is shown beside its field.
      if (error) throw AppError.validation({ [errorField ?? 'regex']: [error] });
      return outcome;
    }),
});
