/*
 * identity.c - identities as the helper established them (identity.h).
 */
#include "autoconfig.h"

#include "listener/identity.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void identity_release(struct identity *id)
{
	free(id->claimed);
	free(id->user);
	free(id->mech);
	memset(id, 0, sizeof(*id));
}

void identity_copy(struct identity *dst, const struct identity *src)
{
	dst->claimed = src->claimed ? xstrdup(src->claimed) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->mech = src->mech ? xstrdup(src->mech) : NULL;
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->flags = src->flags;
}

void identity_set(struct identity *id, const char *claimed, const char *user,
		  uint32_t uid, uint32_t gid, uint32_t flags, const char *mech)
{
	identity_release(id);
	id->claimed = xstrdup(claimed);
	id->user = xstrdup(user);
	id->uid = (uid_t)uid;
	id->gid = (gid_t)gid;
	id->flags = flags;
	id->mech = xstrdup(mech);
}
