// The peer workload of the can() target: 12 roles, 1000 users, 1000 records
// `{ owner, department, status }` with distinct owners, the same rules for fieldgate and for
// CASL (one ability per user, as CASL is used), and a hand-written JS check for scale.

const DEPTS = 20;
const STATUSES = ['draft', 'pending', 'approved', 'archived'];

/** The fieldgate policy: 12 roles over one resource. */
export function peerPolicy() {
  const g = (actions, extra = {}) => ({ resource: 'doc', actions, ...extra });
  const roles = {
    r0: { grants: [g(['view'])] },
    r1: { grants: [g(['view', 'edit'], { scope: 'own' })] },
    r2: { grants: [g(['view'], { scope: 'department' })] },
    r3: { grants: [g(['approve'], { scope: 'department', when: "record.status == 'pending'" })] },
    r4: { grants: [g(['edit'], { scope: 'department', when: "record.status == 'draft'" })] },
    r5: { grants: [g(['delete'], { scope: 'own', when: "record.status == 'draft'" })] },
    r6: { grants: [g(['view', 'edit'], { when: "record.status != 'archived'" })] },
    r7: { grants: [g(['view'], { when: "record.status == 'approved'" })] },
    r8: { grants: [g(['edit', 'approve'], { scope: 'own' })] },
    r9: { grants: [g(['view', 'edit', 'approve', 'delete'], { scope: 'department' })] },
    r10: { grants: [g(['view'], { scope: 'own' }), g(['edit'], { scope: 'own', when: "record.status == 'draft'" })] },
    r11: { grants: [g(['approve'], { when: "record.status == 'pending'" })] },
  };
  return {
    format: 'fieldgate/1', app: 'peer', version: 1,
    resources: { doc: { actions: ['view', 'edit', 'approve', 'delete'], owner: 'owner', department: 'department', fields: { title: {}, amount: {}, status: {} } } },
    roles,
    rules: [{ id: 'no-edit-archived', effect: 'deny', resource: 'doc', actions: ['edit', 'delete'], when: "record.status == 'archived'" }],
  };
}

/** 1000 users with 1 to 3 of the roles and a department each. */
export const peerUsers = Array.from({ length: 1000 }, (_, i) => ({
  id: `u-${i}`,
  roles: [`r${i % 12}`, ...(i % 3 === 0 ? [`r${(i * 7) % 12}`] : []), ...(i % 5 === 0 ? [`r${(i * 11) % 12}`] : [])],
  department: `d-${i % DEPTS}`,
}));

/** 1000 records, each owned by a different user. */
export const peerRecords = Array.from({ length: 1000 }, (_, i) => ({
  owner: `u-${(i * 37) % 1000}`, department: `d-${(i * 13) % DEPTS}`, status: STATUSES[i % 4],
}));

/** The second workload: 10 records with 10 owners, asked about again and again (a list page
 * redrawn: the same objects each time). */
export const peerFewRecords = Array.from({ length: 10 }, (_, i) => ({
  owner: `u-${i * 3}`, department: `d-${i % DEPTS}`, status: STATUSES[i % 4],
}));

/** The same rules as CASL rules for one user (conditions in CASL's Mongo syntax). */
export function caslRules(user) {
  const own = { owner: user.id };
  const dept = { department: user.department };
  const by = {
    r0: [{ action: 'view', subject: 'doc' }],
    r1: [{ action: ['view', 'edit'], subject: 'doc', conditions: own }],
    r2: [{ action: 'view', subject: 'doc', conditions: dept }],
    r3: [{ action: 'approve', subject: 'doc', conditions: { ...dept, status: 'pending' } }],
    r4: [{ action: 'edit', subject: 'doc', conditions: { ...dept, status: 'draft' } }],
    r5: [{ action: 'delete', subject: 'doc', conditions: { ...own, status: 'draft' } }],
    r6: [{ action: ['view', 'edit'], subject: 'doc', conditions: { status: { $ne: 'archived' } } }],
    r7: [{ action: 'view', subject: 'doc', conditions: { status: 'approved' } }],
    r8: [{ action: ['edit', 'approve'], subject: 'doc', conditions: own }],
    r9: [{ action: ['view', 'edit', 'approve', 'delete'], subject: 'doc', conditions: dept }],
    r10: [{ action: 'view', subject: 'doc', conditions: own }, { action: 'edit', subject: 'doc', conditions: { ...own, status: 'draft' } }],
    r11: [{ action: 'approve', subject: 'doc', conditions: { status: 'pending' } }],
  };
  return [
    ...user.roles.flatMap((r) => by[r]),
    { action: ['edit', 'delete'], subject: 'doc', inverted: true, conditions: { status: 'archived' } },
  ];
}

/** The same decision, hand-written. */
export function plainCan(user, action, r) {
  if ((action === 'edit' || action === 'delete') && r.status === 'archived') return false;
  const own = r.owner === user.id;
  const dept = r.department === user.department;
  for (const role of user.roles) {
    switch (role) {
      case 'r0': if (action === 'view') return true; break;
      case 'r1': if ((action === 'view' || action === 'edit') && own) return true; break;
      case 'r2': if (action === 'view' && dept) return true; break;
      case 'r3': if (action === 'approve' && dept && r.status === 'pending') return true; break;
      case 'r4': if (action === 'edit' && dept && r.status === 'draft') return true; break;
      case 'r5': if (action === 'delete' && own && r.status === 'draft') return true; break;
      case 'r6': if ((action === 'view' || action === 'edit') && r.status !== 'archived') return true; break;
      case 'r7': if (action === 'view' && r.status === 'approved') return true; break;
      case 'r8': if ((action === 'edit' || action === 'approve') && own) return true; break;
      case 'r9': if (dept) return true; break;
      case 'r10': if ((action === 'view' && own) || (action === 'edit' && own && r.status === 'draft')) return true; break;
      case 'r11': if (action === 'approve' && r.status === 'pending') return true; break;
      default:
    }
  }
  return false;
}
