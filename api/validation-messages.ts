// Zod's wording for two mistakes every API client makes, reworded to say what is expected: a missing field
// (`required: expected a string`, not `expected string, received undefined`) and a query parameter that is
// not a number (`expected a number, such as 100`, not `received NaN`). Zod's configuration is the
// process's, so this is installed once, by the API; other messages are zod's own, which already name the
// expected type, options or bound.
import { z } from 'zod';

let installed = false;

function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

export function installValidationMessages(): void {
  if (installed) return;
  installed = true;
  z.config({
    customError: (issue) => {
      if (issue.code !== 'invalid_type') return undefined;
      if (issue.input === undefined) return `required: expected ${withArticle(issue.expected)}`;
      if (issue.expected === 'number' && Number.isNaN(issue.input)) return 'expected a number, such as 100';
      return undefined;
    },
  });
}
