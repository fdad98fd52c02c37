import { Body, Controller, Get, NotFoundException, Param, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { EntityErrorsInterceptor } from 'nestjs-declarative-entities';
import { demoPrincipal } from './demo-principal.util.js';
import { PermitSummaryService } from './permit-summary.service.js';

class ApproveBody {
  @ApiProperty({ example: 'R. Diaz' })
  @IsString()
  @Length(1, 80)
  inspector!: string;
}

/** Hand-written routes beside the generated ones. */
@ApiTags('permit workflow')
@Controller('permits/:id')
@UseInterceptors(EntityErrorsInterceptor)
export class PermitSummaryController {
  constructor(private readonly summaries: PermitSummaryService) {}

  @Get('summary')
  @ApiOperation({ summary: 'A permit with its inspections' })
  async summary(@Param('id') id: string, @Req() request: Parameters<typeof demoPrincipal>[0]) {
    const summary = await this.summaries.summary(id, demoPrincipal(request) ?? null);
    if (!summary) throw new NotFoundException(`permit ${id} not found`);
    return summary;
  }

  @Post('approve')
  @ApiOperation({ summary: 'Approve a permit and schedule its final inspection, atomically' })
  @ApiBody({ type: ApproveBody })
  approve(@Param('id') id: string, @Body() body: ApproveBody, @Req() request: Parameters<typeof demoPrincipal>[0]) {
    return this.summaries.approve(id, body.inspector, demoPrincipal(request) ?? null);
  }
}
