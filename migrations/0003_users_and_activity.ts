import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import { createTable, isMysql, longTextType } from '../src/db/dialect.js'

/** Users, API tokens (hashes only), organization memberships and the activity stream. */
export async function up(db: Kysely<any>): Promise<void> {
  const mysql = isMysql(db)
  const create = (name: string) => createTable(db, name)
  await create('app_user')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('fullname', 'varchar(255)', (c) => c.notNull())
    .addColumn('email', 'varchar(255)', (c) => c.notNull())
    .addColumn('sysadmin', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(20)', (c) => c.notNull())
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .execute()

  await create('api_token')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('secret_hash', 'char(64)', (c) => c.notNull())
    .addColumn('created', 'char(26)', (c) => c.notNull())
    .addColumn('expires_at', 'char(26)')
    .addColumn('last_access', 'char(26)')
    .addColumn('revoked', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('api_token_user').on('api_token').columns(['user_id']).execute()

  await create('member')
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('organization_id', 'varchar(36)', (c) => c.notNull().references('organization.id').onDelete('cascade'))
    .addColumn('capacity', 'varchar(20)', (c) => c.notNull())
    .addPrimaryKeyConstraint('member_pk', ['user_id', 'organization_id'])
    .execute()
  await db.schema.createIndex('member_organization').on('member').columns(['organization_id']).execute()

  await create('activity')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey().notNull())
    .addColumn('timestamp', 'char(26)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(36)')
    .addColumn('object_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('organization_id', 'varchar(36)')
    .addColumn('activity_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('data', longTextType(db), (c) => c.notNull())
    .execute()
  await db.schema.createIndex('activity_object').on('activity').columns(['object_id', 'timestamp']).execute()
  await db.schema.createIndex('activity_timestamp').on('activity').columns(['timestamp']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['activity', 'member', 'api_token', 'app_user']) await db.schema.dropTable(table).ifExists().execute()
}
