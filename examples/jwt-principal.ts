import { Inject, Injectable, Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { EntitiesModule, type Principal } from 'nestjs-declarative-entities';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Permit } from './permit.entity.js';

const JWT_SECRET = Symbol('JWT_SECRET');

/** The claims this app signs: the subject and its roles. */
export interface JwtClaims {
  sub: string;
  roles?: string[];
}

/** Verifies `Authorization: Bearer <jwt>`; what `validate` returns becomes `req.user`, the package's principal. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(@Inject(JWT_SECRET) secret: string) {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: secret, algorithms: ['HS256'] });
  }

  validate(claims: JwtClaims): Principal {
    return { id: claims.sub, roles: claims.roles ?? [] };
  }
}

/**
 * Runs Passport on every route, the generated ones included. A request without a token
 * goes on anonymous, so each entity's rules decide (401 where an action needs a
 * principal, open routes stay open); a token that fails verification gets 401 here.
 */
@Injectable()
export class OptionalJwtAuthGuard extends AuthGuard('jwt') {
  override canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    if (request.headers.authorization === undefined) return true;
    return super.canActivate(context);
  }
}

@Module({})
export class JwtAppModule {
  static register(options: { path: string; secret: string }): DynamicModule {
    return {
      module: JwtAppModule,
      imports: [
        PassportModule,
        JwtModule.register({ secret: options.secret, signOptions: { algorithm: 'HS256', expiresIn: '1h' } }),
        // No getPrincipal: the default, req.user, is what JwtStrategy.validate returned.
        EntitiesModule.forRoot({ path: options.path, roles: { clerk: ['permits:write'], admin: ['*'] } }),
        EntitiesModule.forFeature([Permit]),
      ],
      providers: [{ provide: JWT_SECRET, useValue: options.secret }, JwtStrategy, { provide: APP_GUARD, useClass: OptionalJwtAuthGuard }],
    };
  }
}
