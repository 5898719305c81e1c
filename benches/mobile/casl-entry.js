// The same page shape with CASL 7 (bundled and minified by esbuild, as an app ships it): fetch
// the rules, then decide one form's fields and one action for the signed-in person.
import { createMongoAbility, subject } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';

const res = await fetch('/rules.json');
const text = await res.text();
const inHand = performance.now();
const ability = createMongoAbility(JSON.parse(text));
const record = subject('customer', { owner_id: 'u-alice', phone: '13812345678', credit_limit: 5 });
const fields = permittedFieldsOf(ability, 'edit', record, { fieldsFrom: (r) => r.fields || [] });
const can = ability.can('edit', record);
const done = performance.now();
window.result = { first: done, inHand: done - inHand, check: [can, fields.includes('phone') ? 'editable' : 'hidden'] };
